//! Why a short secret is refused (checklist rows 30, 31): one cookie a Pyramid app issued with
//! the tutorial's public secret, and a small wordlist, recover the secret; with it anyone can sign
//! any session. Offline, no server involved: exactly what an attacker holding one cookie does.

use sesi_core::{CookieFormat, DEFAULT_SALT, HashAlg, PyramidFormat, Secret, SecretError, Secrets};

/// Vector A: `[1764000000, 1764000000.25, {"counter": 1}]` as Pyramid 2.1 signed it with
/// `SignedCookieSessionFactory("rahasia_dapur_123")`.
const VECTOR_A: &str = "gntrvUqhILfGdygL_J-uCZLHVnxZ1HVjFZd8-5ysvJrGuGJ7A1dbejeoqCCAlF_RAtd8pu4hS79T_eHT3CVfzlsxNzY0MDAwMDAwLCAxNzY0MDAwMDAwLjI1LCB7ImNvdW50ZXIiOiAxfV0";

/// A dictionary an attacker would start with: common words, and words of the language of the
/// page (the tutorial is Indonesian) with separators and numbers.
fn wordlist() -> Vec<String> {
    let words = [
        "secret", "password", "changeme", "session", "pyramid", "admin", "kunci", "rahasia",
        "sandi", "dapur", "toko", "warung", "kopi",
    ];
    let mut list = Vec::new();
    for a in words {
        list.push(a.to_owned());
        for b in words {
            for sep in ["", "_", "-"] {
                list.push(format!("{a}{sep}{b}"));
                for n in 0..200 {
                    list.push(format!("{a}{sep}{b}_{n}"));
                }
            }
        }
    }
    list
}

#[test]
fn one_cookie_and_a_wordlist_recover_the_tutorial_secret() {
    let list = wordlist();
    let found = list.iter().position(|guess| {
        let secret = Secret::new_insecure(guess.as_str()).expect("non-empty");
        PyramidFormat::new(&Secrets::new(secret), DEFAULT_SALT, HashAlg::Sha512)
            .decode(VECTOR_A)
            .is_ok()
    });
    let tries = found.expect("the secret is in a small wordlist") + 1;
    assert_eq!(list[tries - 1], "rahasia_dapur_123");
    assert!(
        tries < list.len(),
        "found after {tries} of {} guesses",
        list.len()
    );

    // So the library refuses it (and anything under 32 bytes) unless told it is a demo.
    assert_eq!(
        Secret::new("rahasia_dapur_123"),
        Err(SecretError::TooShort { len: 17, min: 32 })
    );
    assert!(
        Secret::new_insecure("rahasia_dapur_123")
            .expect("allowed")
            .is_weak()
    );
}
