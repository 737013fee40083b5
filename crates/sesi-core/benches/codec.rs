//! PyramidFormat cost (checklist row 67): decode+verify and encode+sign for three session sizes, beside a
//! raw HMAC-SHA512 of the same payload bytes (the floor: the codec can't be cheaper than its MAC)
//! and serde_json alone parsing and writing the same payload (the JSON work), and the cost of
//! rejecting a bad signature or an oversized value.
//!
//! PyramidNaclFormat cost (group `nacl_*`): open+decode and encode+seal for the same sessions,
//! beside the raw cipher on the same plaintext (dryoc's `crypto_secretbox`, the floor), the
//! 24-byte nonce from the OS, and RustCrypto's `crypto_secretbox` for comparison.
//!
//! `cargo bench -p sesi-core --bench codec` (add `-- --warm-up-time 1 --measurement-time 2` for a
//! quick run).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use crypto_secretbox::aead::{AeadInPlace, KeyInit};
use dryoc::classic::crypto_secretbox::{
    crypto_secretbox_easy_inplace, crypto_secretbox_open_easy_inplace,
};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sesi_core::{
    CookieFormat, DEFAULT_SALT, HashAlg, NaclKey, PyramidFormat, PyramidNaclFormat, Record, Secret,
    Secrets, Timestamp,
};
use sha2::{Sha256, Sha512};

const SECRET: &str = "a benchmark secret that is comfortably longer than sixty-four bytes.";

fn secrets(fallbacks: usize) -> Secrets {
    let mut secrets = Secrets::new(Secret::new(SECRET).expect("long enough"));
    for i in 0..fallbacks {
        let old = Secret::new(format!("{SECRET} (retired #{i})")).expect("long enough");
        secrets = secrets.with_fallback(old).expect("within the bound");
    }
    secrets
}

fn record(state: Value) -> Record {
    let Value::Object(state) = state else {
        unreachable!("fixtures are objects")
    };
    Record::new(
        Timestamp::Int(1_764_000_005),
        Timestamp::Float(1_763_999_899.875),
        state,
    )
}

/// The tutorial's three shapes: a visit counter, a ~1 KB cart, and a session near the 4 KB cap.
fn fixtures() -> Vec<(&'static str, Record)> {
    let item = |i: usize| {
        json!({"id": format!("kopi-{i:03}"), "name": format!("Kopi Tubruk \u{2615} no. {i}"),
               "qty": i % 5 + 1, "price": 15000 + i * 250})
    };
    let cart: Vec<Value> = (0..12).map(item).collect();
    // As many items as keep the value under 4000 characters (the cap is 4096).
    let codec = PyramidFormat::new(&secrets(0), DEFAULT_SALT, HashAlg::Sha512);
    let mut big = record(json!({"counter": 12345,
        "_csrft_": "a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1", "cart": []}));
    for i in 0.. {
        let mut next = big.clone();
        if let Some(Value::Array(items)) = next.state.get_mut("cart") {
            items.push(item(i));
        }
        if codec.encoded_len(&next) > 4000 {
            break;
        }
        big = next;
    }
    vec![
        ("counter", record(json!({"counter": 1}))),
        ("cart_1k", record(json!({"counter": 7, "cart": cart}))),
        ("session_4k", big),
    ]
}

fn codec_benches(c: &mut Criterion) {
    let codec = PyramidFormat::new(&secrets(0), DEFAULT_SALT, HashAlg::Sha512);
    let keyed = <Hmac<Sha512> as Mac>::new_from_slice(format!("{DEFAULT_SALT}{SECRET}").as_bytes())
        .expect("any key length");
    // The same MAC with SHA-256 (`hashalg = sha256`), for that format's floor: on a CPU with
    // SHA-NI its compressions run on dedicated instructions.
    let keyed256 =
        <Hmac<Sha256> as Mac>::new_from_slice(format!("{DEFAULT_SALT}{SECRET}").as_bytes())
            .expect("any key length");

    for (name, record) in fixtures() {
        let cookie = codec.encode(&record);
        assert!(cookie.len() <= sesi_core::MAX_COOKIE_VALUE_LEN, "{name}");
        let signed = URL_SAFE_NO_PAD.decode(&cookie).expect("base64url");
        let payload = signed[64..].to_vec();
        let label = format!("{} chars, {} payload bytes", cookie.len(), payload.len());

        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(cookie.len() as u64));
        group.bench_function(BenchmarkId::new("decode_verify", &label), |b| {
            b.iter(|| codec.decode(black_box(&cookie)).expect("valid cookie"));
        });
        group.bench_function(BenchmarkId::new("encode_sign", &label), |b| {
            b.iter(|| codec.encode(black_box(&record)));
        });
        let (mut scratch, mut out) = (Vec::new(), String::new());
        group.bench_function(
            BenchmarkId::new("encode_sign_reused_buffers", &label),
            |b| {
                b.iter(|| {
                    codec.encode_into(black_box(&record), &mut scratch, &mut out);
                    out.len()
                });
            },
        );
        group.bench_function(BenchmarkId::new("hmac_sha512_raw", &label), |b| {
            b.iter(|| {
                let mut mac = keyed.clone();
                mac.update(black_box(&payload));
                mac.finalize().into_bytes()
            });
        });
        group.bench_function(BenchmarkId::new("hmac_sha256_raw", &label), |b| {
            b.iter(|| {
                let mut mac = keyed256.clone();
                mac.update(black_box(&payload));
                mac.finalize().into_bytes()
            });
        });
        // The JSON work a round trip cannot avoid, done by serde_json alone: parse the payload
        // into a `Value` (dropped each time, as a decoded record is) and write it back.
        group.bench_function(BenchmarkId::new("json_parse_raw", &label), |b| {
            b.iter(|| serde_json::from_slice::<Value>(black_box(&payload)).expect("valid JSON"));
        });
        let value: Value = serde_json::from_slice(&payload).expect("valid JSON");
        let mut json_out = Vec::new();
        group.bench_function(BenchmarkId::new("json_write_raw", &label), |b| {
            b.iter(|| {
                json_out.clear();
                serde_json::to_writer(&mut json_out, black_box(&value)).expect("writable");
                json_out.len()
            });
        });
        group.finish();
    }

    let mut group = c.benchmark_group("reject");
    let (_, big) = fixtures().pop().expect("three fixtures");
    let mut bytes = URL_SAFE_NO_PAD
        .decode(codec.encode(&big))
        .expect("base64url");
    bytes[0] ^= 1;
    let forged = URL_SAFE_NO_PAD.encode(&bytes);
    group.bench_function(
        BenchmarkId::new("bad_signature", format!("{} chars", forged.len())),
        |b| b.iter(|| codec.decode(black_box(&forged)).expect_err("forged")),
    );
    let with_fallbacks = PyramidFormat::new(&secrets(3), DEFAULT_SALT, HashAlg::Sha512);
    group.bench_function(
        BenchmarkId::new(
            "bad_signature_3_fallbacks",
            format!("{} chars", forged.len()),
        ),
        |b| {
            b.iter(|| {
                with_fallbacks
                    .decode(black_box(&forged))
                    .expect_err("forged")
            })
        },
    );
    for len in [4097usize, 65_536] {
        let oversized = "A".repeat(len);
        group.bench_function(BenchmarkId::new("oversized", format!("{len} chars")), |b| {
            b.iter(|| codec.decode(black_box(&oversized)).expect_err("too long"));
        });
    }
    group.finish();
}

fn nacl_benches(c: &mut Criterion) {
    let key = [0x5a_u8; 32];
    let format = PyramidNaclFormat::new(NaclKey::from_bytes(key));
    let nonce = [7_u8; 24];
    let rustcrypto = crypto_secretbox::XSalsa20Poly1305::new((&key).into());

    for (name, record) in fixtures() {
        let cookie = format.encode(&record);
        let mut plaintext = Vec::new();
        record.write_json(&mut plaintext);
        let label = format!("{} chars, {} payload bytes", cookie.len(), plaintext.len());

        let mut group = c.benchmark_group(format!("nacl_{name}"));
        group.throughput(Throughput::Bytes(cookie.len() as u64));
        group.bench_function(BenchmarkId::new("decode_open", &label), |b| {
            b.iter(|| format.decode(black_box(&cookie)).expect("valid cookie"));
        });
        group.bench_function(BenchmarkId::new("encode_seal", &label), |b| {
            b.iter(|| format.encode(black_box(&record)));
        });
        // The floor: the cipher alone, sealing and opening the same plaintext in place.
        let mut buf = Vec::with_capacity(plaintext.len() + 16);
        group.bench_function(BenchmarkId::new("secretbox_seal_open_raw", &label), |b| {
            b.iter(|| {
                buf.clear();
                buf.extend_from_slice(black_box(&plaintext));
                buf.extend_from_slice(&[0; 16]);
                crypto_secretbox_easy_inplace(&mut buf, &nonce, &key).expect("room for the tag");
                crypto_secretbox_open_easy_inplace(&mut buf, &nonce, &key).expect("authentic");
                buf.len()
            });
        });
        group.bench_function(BenchmarkId::new("rustcrypto_seal_open_raw", &label), |b| {
            b.iter(|| {
                buf.clear();
                buf.extend_from_slice(black_box(&plaintext));
                let nonce = crypto_secretbox::Nonce::from_slice(&nonce);
                let tag = rustcrypto
                    .encrypt_in_place_detached(nonce, b"", &mut buf)
                    .expect("encrypts");
                rustcrypto
                    .decrypt_in_place_detached(nonce, b"", &mut buf, &tag)
                    .expect("authentic");
                buf.len()
            });
        });
        group.finish();
    }
    let mut group = c.benchmark_group("nacl_nonce");
    group.bench_function("getrandom_24_bytes", |b| {
        b.iter(|| {
            let mut nonce = [0_u8; 24];
            getrandom::fill(&mut nonce).expect("os rng");
            nonce
        });
    });
    group.finish();
}

criterion_group!(benches, codec_benches, nacl_benches);
criterion_main!(benches);
