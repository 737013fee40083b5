//! Random bytes from the operating system for the values minted per request: session ids, lock
//! tokens, CSRF tokens and the pyramid-nacl format's nonces. Fetched `POOL_LEN` bytes at a time
//! per thread (one `getrandom` per 768 bytes instead of one per value: a call of 24 bytes cost
//! 350 ns here) and never handed out twice: the pool remembers the process that filled it, and
//! a forked child, whose process id differs, refills its own before its first value (so each
//! value still costs a `getpid`, about 0.15 µs). Bytes are wiped as they are handed out. Keys are
//! not minted here: they come straight from the generator.

use std::cell::RefCell;

/// Bytes fetched per system call: 32 nonces, or 48 ids or tokens.
const POOL_LEN: usize = 768;

struct Pool {
    /// The process that filled `bytes`, or 0 before the first fill.
    owner: u32,
    bytes: [u8; POOL_LEN],
    /// How many of `bytes` were handed out.
    used: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool { owner: 0, bytes: [0; POOL_LEN], used: POOL_LEN })
    };
}

/// Fills `out` with random bytes never handed out before by this process or one it was forked
/// from.
///
/// # Panics
/// If `out` is longer than the pool (a bug here), or if the operating system's random number
/// generator fails, which leaves no safe way to mint ids, tokens or nonces.
pub(crate) fn fill(out: &mut [u8]) {
    assert!(out.len() <= POOL_LEN, "at most {POOL_LEN} bytes at a time");
    POOL.with_borrow_mut(|pool| {
        let process = std::process::id();
        if pool.owner != process || POOL_LEN - pool.used < out.len() {
            getrandom::fill(&mut pool.bytes)
                .expect("the OS random number generator must work to mint ids, tokens and nonces");
            pool.owner = process;
            pool.used = 0;
        }
        let taken = &mut pool.bytes[pool.used..pool.used + out.len()];
        out.copy_from_slice(taken);
        taken.fill(0);
        pool.used += out.len();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE_LEN: usize = 24;

    #[test]
    fn nonces_never_repeat_across_refills() {
        let mut seen = std::collections::HashSet::new();
        let mut nonce = [0; NONCE_LEN];
        for _ in 0..(POOL_LEN / NONCE_LEN) * 5 + 3 {
            fill(&mut nonce);
            assert!(seen.insert(nonce), "a repeated nonce");
        }
    }

    #[test]
    fn a_pool_filled_by_another_process_is_refilled_first() {
        let mut first = [0; NONCE_LEN];
        fill(&mut first);
        // As a forked child sees its parent's pool: same bytes, another owner.
        let copied = POOL.with_borrow_mut(|pool| {
            pool.owner = pool.owner.wrapping_add(1);
            pool.bytes
        });
        let mut next = [0; NONCE_LEN];
        fill(&mut next);
        assert!(
            !copied.windows(NONCE_LEN).any(|pooled| pooled == next),
            "a nonce from the inherited pool"
        );
    }

    #[test]
    fn values_of_mixed_sizes_never_overlap_and_are_wiped_from_the_pool() {
        let mut ids = Vec::new();
        for round in 0..200 {
            let mut value = vec![0; if round % 3 == 0 { 24 } else { 16 }];
            fill(&mut value);
            assert!(value.iter().any(|&b| b != 0), "random bytes");
            let handed =
                POOL.with_borrow(|pool| pool.bytes[pool.used - value.len()..pool.used].to_vec());
            assert!(handed.iter().all(|&b| b == 0), "handed-out bytes are wiped");
            assert!(!ids.contains(&value), "a repeated value");
            ids.push(value);
        }
    }
}
