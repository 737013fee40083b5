//! The `decode_flask` fuzz target (`fuzz/fuzz_targets/decode_flask.rs`) under plain `cargo test`:
//! replays the committed seed corpus (and any crash reproducers saved in
//! `tests/fuzz/seeds/decode_flask/`), then a bounded, deterministic loop of mutated and random
//! inputs through the same body (`tests/fuzz/decode_flask_input.rs`). Checklist row 63 for the
//! Flask format.

#[path = "fuzz/decode_flask_input.rs"]
mod decode_flask_input;

use std::path::PathBuf;

use decode_flask_input::{SECRET, Target};
use sesi_core::{CookieContent, CookieFormat as _, FlaskFormat, Secret, Secrets};

fn seeds() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/seeds/decode_flask");
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
    assert!(seeds.len() >= 40, "seed corpus is missing");
    for seed in &seeds {
        target.run(seed);
    }
    // Guards the replay itself: if the seeds stopped opening (key, clock), the target would only
    // ever exercise the rejection paths.
    let format = FlaskFormat::new(&Secrets::new(Secret::new_insecure(SECRET).expect("key")));
    let opened = seeds
        .iter()
        .filter_map(|s| format.decode(&String::from_utf8_lossy(s)).ok())
        .filter(|d| matches!(d.content, CookieContent::State(_)))
        .count();
    assert!(opened >= 10, "only {opened} seeds open");
    // And the payload seeds, signed by the target, open too.
    let signed = seeds
        .iter()
        .filter(|s| s.starts_with(b"{"))
        .map(|s| {
            use base64::Engine as _;
            let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
            target.sign(&format!("{payload}.aSSBAA"))
        })
        .filter(|value| format.decode(value).is_ok())
        .count();
    assert!(signed >= 10, "only {signed} payload seeds open once signed");
}

#[test]
fn bounded_random_inputs_never_panic() {
    let target = Target::default();
    let seeds = seeds();
    let mut state: u64 = 0x5e51_f1a5_2026_1130;
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
            2 => input.insert(next(len + 1), b"[{\"\\,:]}0e-9\xff_-=. "[next(18)]),
            3 => input = (0..next(200)).map(|_| next(256) as u8).collect(),
            4 => {
                let tag: &[u8] = [
                    &b"{\" t\":"[..],
                    b"{\" b\":",
                    b"{\" di\":{\" u__\":",
                    b"{\" d\":",
                ][next(4)];
                let at = next(len + 1);
                input.splice(at..at, tag.iter().copied());
            }
            _ => input.extend(std::iter::repeat_n(b'[', next(300))),
        }
        target.run(&input);
    }
}
