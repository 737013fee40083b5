//! The `decode_django` fuzz target (`fuzz/fuzz_targets/decode_django.rs`) under plain
//! `cargo test`: replays the committed seed corpus (and any crash reproducers saved in
//! `tests/fuzz/seeds/decode_django/`), then a bounded, deterministic loop of mutated and random
//! inputs through the same body.

#![cfg(feature = "django")]

#[path = "fuzz/decode_django_input.rs"]
mod decode_django_input;

use std::path::PathBuf;

use decode_django_input::Target;
use sesi_core::CookieFormat as _;
use sesi_core::format::django::DjangoFormat;

fn seeds() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/seeds/decode_django");
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

fn format() -> DjangoFormat {
    let secret = sesi_core::Secret::new(decode_django_input::SECRET).expect("a long secret");
    DjangoFormat::new(&sesi_core::Secrets::new(secret))
}

#[test]
fn seeds_replay_and_the_valid_ones_open() {
    let target = Target::default();
    let seeds = seeds();
    assert!(seeds.len() >= 16, "seed corpus is missing");
    for seed in &seeds {
        target.run(seed);
    }
    // Guards the replay itself: if the seeds stopped opening (key, salt), the target would only
    // ever exercise the rejection paths.
    let format = format();
    let opened = seeds
        .iter()
        .filter(|s| format.decode(&String::from_utf8_lossy(s)).is_ok())
        .count();
    assert!(opened >= 10, "only {opened} seeds open as cookies");
    // The payload seeds open once signed, as the target signs them.
    let payloads = seeds
        .iter()
        .filter(|s| {
            let payload = base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                s.as_slice(),
            );
            let value = target.sign(&format!("{payload}:1vNYyu"));
            format.decode(&value).is_ok()
        })
        .count();
    assert!(
        payloads >= 4,
        "only {payloads} seeds open as signed payloads"
    );
}

#[test]
fn bounded_random_inputs_never_panic() {
    let target = Target::default();
    let seeds = seeds();
    let mut state: u64 = 0xd7a9_90c0_2026_1130;
    let mut next = move |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as usize
    };
    for _ in 0..1_000 {
        let mut input = seeds[next(seeds.len())].clone();
        let len = input.len();
        match next(6) {
            0 if len > 0 => input[next(len)] ^= 1 << next(8),
            1 if len > 0 => input.truncate(next(len)),
            2 => input.insert(next(len + 1), b"[{\"\\,:]}0e-9\xff_-=."[next(17)]),
            3 => input = (0..next(200)).map(|_| next(256) as u8).collect(),
            4 => input.extend(std::iter::repeat_n(b'[', next(300))),
            _ => input.extend_from_slice(b":1vNYyu"),
        }
        target.run(&input);
    }
}
