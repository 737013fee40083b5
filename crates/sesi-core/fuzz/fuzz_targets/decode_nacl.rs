//! Fuzz target `decode_nacl`: arbitrary bytes into `PyramidNaclFormat::decode` and the session
//! path, both as a raw cookie value and as a plaintext encrypted with the right key. Checklist
//! rows 16 and 63 for the encrypted format.
//!
//! The body is `tests/fuzz/decode_nacl_input.rs`, shared with `tests/fuzz_replay_nacl.rs`; the
//! seeds are in `tests/fuzz/seeds/decode_nacl/`. `cargo fuzz run -s none decode_nacl` from
//! `crates/sesi-core` (`scripts/fuzz.sh` runs every target).

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz/decode_nacl_input.rs"]
mod decode_nacl_input;

static TARGET: LazyLock<decode_nacl_input::Target> =
    LazyLock::new(decode_nacl_input::Target::default);

fuzz_target!(|data: &[u8]| {
    TARGET.run(data);
});
