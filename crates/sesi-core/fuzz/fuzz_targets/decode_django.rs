//! Fuzz target `decode_django`: arbitrary bytes into `DjangoFormat::decode` and the session path,
//! as a raw cookie value and as payloads signed with the right key (plain JSON, compressed, and
//! the whole signed text). The body is `tests/fuzz/decode_django_input.rs`, which
//! `tests/fuzz_replay_django.rs` also runs under plain `cargo test`.
//!
//! `cargo fuzz run -s none decode_django` from `crates/sesi-core` (`scripts/fuzz.sh` runs every
//! target); seeds are in `tests/fuzz/seeds/decode_django/` (copy them elsewhere first: libFuzzer
//! writes new inputs into the corpus directory it is given).

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz/decode_django_input.rs"]
mod decode_django_input;

static TARGET: LazyLock<decode_django_input::Target> =
    LazyLock::new(decode_django_input::Target::default);

fuzz_target!(|data: &[u8]| {
    TARGET.run(data);
});
