//! zlib as Python's `zlib` module does it, for the formats that compress (Flask's and Django's):
//! `compress` gives the bytes of `zlib.compress(data)` (level 6), and `inflate_bounded` reads a
//! compressed payload without ever producing more than a cap, so a small cookie cannot expand into
//! a large allocation (a zip bomb).
//!
//! Byte-identical output needs zlib's own deflate: flate2's default Rust backend (miniz_oxide)
//! chooses different matches, so the workspace builds flate2 on the C zlib (`libz-sys`, statically,
//! the same code on every machine). `tests/flask_vectors.rs` and `tests/django_vectors.rs` hold the
//! proof: compressed values written by the real libraries are reproduced byte for byte.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::error::DecodeError;

/// Python's `zlib.compress(data)`: a zlib stream (header, deflate at level 6, Adler-32).
pub(crate) fn compress(data: &[u8]) -> Vec<u8> {
    let mut compressor = Compress::new(Compression::new(6), true);
    // A stored deflate block costs 5 bytes per 64 KiB; with the zlib header and trailer this
    // bound always fits, so one call finishes the stream.
    let mut out = Vec::with_capacity(data.len() + data.len() / 1000 + 64);
    loop {
        let status = compressor
            .compress_vec(data, &mut out, FlushCompress::Finish)
            .expect("deflate on an in-memory buffer cannot fail");
        if status == Status::StreamEnd {
            return out;
        }
        out.reserve(out.capacity().max(64));
    }
}

/// Why a compressed payload was refused.
#[derive(Debug, thiserror::Error)]
enum InflateError {
    #[error("not a complete zlib stream")]
    Truncated,
    #[error("bytes follow the end of the zlib stream")]
    TrailingData,
    #[error("inflates to more than {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Corrupt(#[from] flate2::DecompressError),
}

impl From<InflateError> for DecodeError {
    fn from(err: InflateError) -> Self {
        let kind = match err {
            InflateError::TooLarge(_) => "inflates_too_large",
            _ => "bad_compression",
        };
        DecodeError::Format {
            kind,
            source: Box::new(err),
        }
    }
}

/// Inflates the zlib stream `data` into `out` (cleared first), refusing it as soon as it would
/// produce more than `cap` bytes, and refusing a truncated stream or bytes after its end.
pub(crate) fn inflate_bounded(
    data: &[u8],
    cap: usize,
    out: &mut Vec<u8>,
) -> Result<(), DecodeError> {
    out.clear();
    let mut inflater = Decompress::new(true);
    // Inflated a chunk at a time, so an oversized stream is refused after at most one chunk
    // beyond the cap, never after expanding in full.
    let mut chunk = [0u8; 4096];
    loop {
        let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
        let input = usize::try_from(in_before)
            .ok()
            .and_then(|consumed| data.get(consumed..))
            .unwrap_or_default();
        let status = inflater
            .decompress(input, &mut chunk, FlushDecompress::None)
            .map_err(InflateError::from)?;
        let produced = usize::try_from(inflater.total_out() - out_before).unwrap_or(usize::MAX);
        if produced > cap.saturating_sub(out.len()) {
            return Err(InflateError::TooLarge(cap).into());
        }
        out.extend_from_slice(&chunk[..produced]);
        match status {
            Status::StreamEnd if inflater.total_in() == data.len() as u64 => return Ok(()),
            Status::StreamEnd => return Err(InflateError::TrailingData.into()),
            Status::Ok | Status::BufError if produced == 0 && inflater.total_in() == in_before => {
                return Err(InflateError::Truncated.into());
            }
            Status::Ok | Status::BufError => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate(data: &[u8], cap: usize) -> Result<Vec<u8>, DecodeError> {
        let mut out = vec![1, 2, 3];
        inflate_bounded(data, cap, &mut out).map(|()| out)
    }

    #[test]
    fn compress_matches_python_zlib_compress() {
        // python3 -c 'import zlib; print(zlib.compress(b"a" * 100).hex())'
        assert_eq!(compress(b"a".repeat(100).as_slice()), {
            let hex = "789c4b4ca43d00007a4725e5";
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"))
                .collect::<Vec<u8>>()
        });
    }

    #[test]
    fn a_stream_inflates_back_to_its_input() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(
            inflate(&compress(&data), 64 * 1024).expect("inflates"),
            data
        );
        assert_eq!(inflate(&compress(b""), 0).expect("inflates"), b"");
    }

    #[test]
    fn a_bomb_is_refused_at_the_cap() {
        let bomb = compress(&vec![0u8; 10 * 1024 * 1024]);
        assert!(bomb.len() < 11_000, "{}", bomb.len());
        let err = inflate(&bomb, 64 * 1024).expect_err("a bomb");
        assert_eq!(err.kind(), "inflates_too_large");
        // Exactly the cap is fine; one byte more is not.
        let data = vec![7u8; 5000];
        assert_eq!(
            inflate(&compress(&data), 5000).expect("at the cap").len(),
            5000
        );
        assert_eq!(
            inflate(&compress(&data), 4999).expect_err("refused").kind(),
            "inflates_too_large"
        );
    }

    #[test]
    fn truncated_corrupt_and_trailing_streams_are_refused() {
        let good = compress(b"{\"counter\":1}");
        for cut in 0..good.len() {
            assert_eq!(
                inflate(&good[..cut], 1024).expect_err("refused").kind(),
                "bad_compression",
                "{cut}"
            );
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(
            inflate(&trailing, 1024).expect_err("refused").kind(),
            "bad_compression"
        );
        let mut corrupt = good.clone();
        corrupt[0] ^= 0xff;
        assert_eq!(
            inflate(&corrupt, 1024).expect_err("refused").kind(),
            "bad_compression"
        );
        let mut bad_checksum = good;
        *bad_checksum.last_mut().expect("a trailer") ^= 1;
        assert_eq!(
            inflate(&bad_checksum, 1024).expect_err("refused").kind(),
            "bad_compression"
        );
    }
}
