//! Fuzz target `decode_flask`: arbitrary bytes into `FlaskFormat::decode` and the session path,
//! both as a raw cookie value and as payloads signed with the right key. Checklist rows 16 and
//! 63 for the Flask format.
//!
//! The body is `tests/fuzz/decode_flask_input.rs`, shared with `tests/fuzz_replay_flask.rs`; the
//! seeds are in `tests/fuzz/seeds/decode_flask/`. `cargo fuzz run -s none decode_flask` from
//! `crates/sesi-core` (`scripts/fuzz.sh` runs every target).

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz/decode_flask_input.rs"]
mod decode_flask_input;

static TARGET: LazyLock<decode_flask_input::Target> =
    LazyLock::new(decode_flask_input::Target::default);

fuzz_target!(|data: &[u8]| {
    TARGET.run(data);
});
