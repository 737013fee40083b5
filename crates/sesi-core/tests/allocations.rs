//! The codec's hot path allocates nothing beyond its outputs: decoding allocates exactly what
//! serde_json allocates to build the state map it returns (base64, signature and the outer array
//! cost nothing), `encode` allocates only the returned string, and `encode_into` with warm
//! buffers allocates nothing. Counted with a counting global
//! allocator (allocation-counter), so a regression shows up as a number, not a timing.

use std::hint::black_box;

use allocation_counter::measure;
use sesi_core::{
    CookieFormat, DEFAULT_SALT, HashAlg, PyramidFormat, Record, Secret, Secrets, Timestamp,
};

fn codec() -> PyramidFormat {
    let secret = Secret::new_insecure("rahasia_dapur_123").expect("non-empty");
    PyramidFormat::new(&Secrets::new(secret), DEFAULT_SALT, HashAlg::Sha512)
}

fn records() -> Vec<Record> {
    let counter = serde_json::json!({"counter": 7});
    let cart = serde_json::json!({
        "counter": 7,
        "cart": {"kopi-tubruk": 2, "es-teh-manis": 1, "rendang": 3},
        "_csrft_": "a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1",
        "lang": "id"
    });
    [counter, cart]
        .into_iter()
        .map(|state| {
            Record::new(
                Timestamp::Int(1764000000),
                Timestamp::Float(1763999899.875),
                state.as_object().expect("object").clone(),
            )
        })
        .collect()
}

#[test]
fn decoding_allocates_exactly_what_building_the_state_needs() {
    let codec = codec();
    for record in records() {
        let cookie = codec.encode(&record);
        let decoded = codec
            .decode(&cookie)
            .expect("valid")
            .into_record()
            .expect("a whole session");
        assert_eq!(decoded, record);
        let state_json = serde_json::to_vec(&record.state).expect("serializable");
        // The output alone: serde_json building the same map from the same text.
        let for_state = measure(|| {
            black_box(
                serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(black_box(
                    &state_json,
                ))
                .expect("valid json"),
            );
        });
        let for_decode = measure(|| {
            black_box(codec.decode(black_box(&cookie)).expect("valid"));
        });
        assert!(for_state.count_total > 0, "the state map does allocate");
        assert_eq!(
            for_decode.count_total, for_state.count_total,
            "decode made {} allocations, building its state alone needs {}",
            for_decode.count_total, for_state.count_total
        );
    }
}

#[test]
fn encoding_allocates_only_the_returned_value() {
    let codec = codec();
    for record in records() {
        let _warm = codec.encode(&record);
        let info = measure(|| {
            black_box(codec.encode(black_box(&record)));
        });
        assert_eq!(info.count_total, 1, "encode allocated {info:?}");

        let (mut scratch, mut out) = (Vec::new(), String::new());
        codec.encode_into(&record, &mut scratch, &mut out);
        let info = measure(|| codec.encode_into(black_box(&record), &mut scratch, &mut out));
        assert_eq!(
            info.count_total, 0,
            "encode_into with warm buffers allocated {info:?}"
        );
    }
}
