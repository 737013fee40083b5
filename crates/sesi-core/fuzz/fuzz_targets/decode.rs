//! Fuzz target `decode`: arbitrary bytes into `PyramidFormat::decode`,
//! `PyramidFormat::decode_unverified` and the session path (`Lifecycle::begin(.., Some(..))` then
//! reads, an update and `plan`), both as a
//! raw cookie value and as a correctly signed payload. Checklist rows 16 and 63.
//!
//! The body is `tests/fuzz/decode_input.rs`, shared with `tests/fuzz_replay.rs`; the seeds are in
//! `tests/fuzz/seeds/decode/`. `cargo fuzz run -s none decode` from `crates/sesi-core`
//! (`scripts/fuzz.sh` runs every target).

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz/decode_input.rs"]
mod decode_input;

static TARGET: LazyLock<decode_input::Target> = LazyLock::new(decode_input::Target::default);

fuzz_target!(|data: &[u8]| {
    TARGET.run(data);
});
