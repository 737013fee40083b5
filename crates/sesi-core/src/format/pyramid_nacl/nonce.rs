//! Nonces for the pyramid-nacl format: 24 random bytes from the operating system per value,
//! fetched 32 at a time (one system call instead of 32) and never reused across a fork: the pool
//! remembers the process that filled it, and a forked child, whose process id differs, refills
//! its own before its first value.

use std::cell::RefCell;

use super::NONCE_LEN;

/// Nonces fetched per system call.
const POOLED: usize = 32;

struct Pool {
    /// The process that filled `bytes`, or 0 before the first fill.
    owner: u32,
    bytes: [u8; NONCE_LEN * POOLED],
    /// How many of the pooled nonces were handed out.
    used: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool { owner: 0, bytes: [0; NONCE_LEN * POOLED], used: POOLED })
    };
}

/// A fresh nonce, never handed out before by this process or one it was forked from.
///
/// # Panics
/// If the operating system's random number generator fails, which leaves no safe way to
/// encrypt.
pub(super) fn fresh(nonce: &mut [u8; NONCE_LEN]) {
    POOL.with_borrow_mut(|pool| {
        let process = std::process::id();
        if pool.used == POOLED || pool.owner != process {
            getrandom::fill(&mut pool.bytes)
                .expect("the OS random number generator must work to encrypt cookies");
            pool.owner = process;
            pool.used = 0;
        }
        let at = pool.used * NONCE_LEN;
        nonce.copy_from_slice(&pool.bytes[at..at + NONCE_LEN]);
        pool.used += 1;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_never_repeat_across_refills() {
        let mut seen = std::collections::HashSet::new();
        let mut nonce = [0; NONCE_LEN];
        for _ in 0..POOLED * 5 + 3 {
            fresh(&mut nonce);
            assert!(seen.insert(nonce), "a repeated nonce");
        }
    }

    #[test]
    fn a_pool_filled_by_another_process_is_refilled_first() {
        let mut first = [0; NONCE_LEN];
        fresh(&mut first);
        // As a forked child sees its parent's pool: same bytes, another owner.
        let copied = POOL.with_borrow_mut(|pool| {
            pool.owner = pool.owner.wrapping_add(1);
            pool.bytes
        });
        let mut next = [0; NONCE_LEN];
        fresh(&mut next);
        assert!(
            !copied.chunks_exact(NONCE_LEN).any(|pooled| pooled == next),
            "a nonce from the inherited pool"
        );
    }
}
