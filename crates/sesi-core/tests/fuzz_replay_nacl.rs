//! The `decode_nacl` fuzz target (`fuzz/fuzz_targets/decode_nacl.rs`) under plain `cargo test`:
//! replays the committed seed corpus (and any crash reproducers saved in
//! `tests/fuzz/seeds/decode_nacl/`), then a bounded, deterministic loop of mutated and random
//! inputs through the same body (`tests/fuzz/decode_nacl_input.rs`). Checklist row 63 for the
//! encrypted format.

#[path = "fuzz/decode_nacl_input.rs"]
mod decode_nacl_input;

use std::path::PathBuf;

use decode_nacl_input::Target;
use sesi_core::CookieFormat as _;

fn seeds() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/seeds/decode_nacl");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).expect("readable seed"))
        .collect()
}

#[test]
fn seeds_replay_and_the_valid_ones_reach_the_session_state() {
    let target = Target::default();
    let seeds = seeds();
    assert!(seeds.len() >= 12, "seed corpus is missing");
    for seed in &seeds {
        target.run(seed);
    }
    // Guards the replay itself: if the seeds stopped opening (key, clock), the target would only
    // ever exercise the rejection paths.
    let key = sesi_core::NaclKey::from_hex(decode_nacl_input::KEY_HEX).expect("key");
    let format = sesi_core::PyramidNaclFormat::new(key);
    let opened = seeds
        .iter()
        .filter(|s| format.decode(&String::from_utf8_lossy(s)).is_ok())
        .count();
    assert!(opened >= 5, "only {opened} seeds open");
}

#[test]
fn bounded_random_inputs_never_panic() {
    let target = Target::default();
    let seeds = seeds();
    let mut state: u64 = 0x5e51_0ac1_2026_1129;
    let mut next = move |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as usize
    };
    for _ in 0..1_000 {
        let mut input = seeds[next(seeds.len())].clone();
        let len = input.len();
        match next(5) {
            0 if len > 0 => input[next(len)] ^= 1 << next(8),
            1 if len > 0 => input.truncate(next(len)),
            2 => input.insert(next(len + 1), b"[{\"\\,:]}0e-9\xff_-="[next(16)]),
            3 => input = (0..next(200)).map(|_| next(256) as u8).collect(),
            _ => input.extend(std::iter::repeat_n(b'[', next(300))),
        }
        target.run(&input);
    }
}
