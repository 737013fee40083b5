//! Secrets by one rule (checklist row 30): each `--secret` / `SESI_SECRET` is exactly one
//! secret, never split; a rotation is a repeated `--secret` or a file, one per line; a secret
//! file others can read and a secret under the format's recommended length are warned about.

use std::os::unix::fs::PermissionsExt as _;

use tempfile::TempDir;

use crate::support::load;
use crate::support::process::{SesiServer, run_sesi};

#[tokio::test]
async fn a_comma_in_sesi_secret_is_part_of_the_one_secret() {
    let _share = load::share().await;
    let secret = format!("{},{}", "a".repeat(40), "b".repeat(40));
    let server = SesiServer::serve(&[("SESI_SECRET", &secret)], &[]);
    let visitor = server.visitor();
    assert_eq!(visitor.visit().await, 1);
    let cookie = visitor.cookie().expect("a session cookie");
    let whole = run_sesi(
        &["cookie", "decode", "--secret", &secret, &cookie],
        &[],
        None,
    );
    assert_eq!(
        whole.code(),
        0,
        "signed with the whole secret: {}",
        whole.stderr
    );
    let half = "a".repeat(40);
    let first_part = run_sesi(&["cookie", "decode", "--secret", &half, &cookie], &[], None);
    assert_eq!(first_part.code(), 1, "never with a piece of it");
    assert!(
        server.log().contains("secrets from --secret / SESI_SECRET")
            && server.log().contains("count=1"),
        "{}",
        server.log_tail(5)
    );
}

#[tokio::test]
async fn serve_warns_about_a_short_secret_and_a_secret_file_others_can_read() {
    let _share = load::share().await;
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("secrets");
    std::fs::write(&file, format!("{}\n", "k".repeat(40))).expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let path = file.to_str().expect("UTF-8 path");
    let server = SesiServer::serve(&[], &["--secret-file", path]);
    assert_eq!(server.visitor().visit().await, 1, "it still serves");
    let log = server.log();
    assert!(
        log.contains("is accessible to group or others (mode 644)"),
        "{log}"
    );
    assert!(
        log.contains("a secret is 40 bytes; the pyramid format recommends at least 64"),
        "{log}"
    );

    // A private file of a 64-byte secret: no warning.
    std::fs::write(&file, format!("{}\n", "k".repeat(64))).expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let quiet = SesiServer::serve(&[], &["--secret-file", path]);
    assert_eq!(quiet.visitor().visit().await, 1);
    let log = quiet.log();
    assert!(!log.contains("accessible to group"), "{log}");
    assert!(!log.contains("recommends at least"), "{log}");
}
