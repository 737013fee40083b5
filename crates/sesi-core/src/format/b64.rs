//! Strict unpadded base64url, as WebOb writes cookie values, with a reused decoding buffer.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::error::{DecodeError, MAX_COOKIE_VALUE_LEN};

/// Strict base64url: no padding accepted, no `+`/`/`, no whitespace, no non-zero trailing bits.
pub(crate) const STRICT_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Length of the unpadded base64 text of `n` bytes.
#[must_use]
pub(crate) fn base64_len(n: usize) -> usize {
    n / 3 * 4
        + match n % 3 {
            0 => 0,
            1 => 2,
            _ => 3,
        }
}

/// Decodes into `buf` (cleared first; reused across calls, so no allocation once warm) and
/// returns the decoded bytes. Values over [`MAX_COOKIE_VALUE_LEN`] are refused unread.
pub(crate) fn decode_base64<'b>(
    value: &str,
    buf: &'b mut Vec<u8>,
) -> Result<&'b mut [u8], DecodeError> {
    if value.len() > MAX_COOKIE_VALUE_LEN {
        return Err(DecodeError::Oversized { len: value.len() });
    }
    buf.clear();
    STRICT_B64
        .decode_vec(value, buf)
        .map_err(DecodeError::Base64)?;
    Ok(buf)
}
