//! `sesi serve`'s log as a production user reads it (issue 16): colour only on a terminal and
//! never with `NO_COLOR`, one JSON object per line with `--log-format json`, every request line
//! written even when standard error is slow and the server is stopping, and a bad
//! `--log-format` refused with the valid ones.

use std::process::Command;

use serde_json::{Map, Value};

use crate::support::cookie::SECRET;
use crate::support::http::Visitor;
use crate::support::load;
use crate::support::process::{SesiServer, run, run_sesi, sesi_command};

/// `NO_COLOR` set but empty, which allows colours (<https://no-color.org>): then only the
/// terminal check keeps them out of a file. [`sesi_command`] sets `NO_COLOR=1` otherwise.
const COLOUR_ALLOWED: (&str, &str) = ("NO_COLOR", "");

/// Requests the counting test sends, from [`CLIENTS`] clients at once.
const REQUESTS: usize = 2000;
const CLIENTS: usize = 8;
/// The counting test's standard error, in bytes per second: its ~460 kB of request lines take
/// about 3 s to write, so much of the log is still queued when SIGTERM comes (the exit must wait
/// for it: tracing-appender's guard, used before, gave the queue 1 s and dropped the rest).
const SLOW_STDERR: u64 = 150_000;

/// Every line of `log` as a JSON object; panics on any other line.
fn json_lines(log: &str) -> Vec<Map<String, Value>> {
    log.lines()
        .map(|line| match serde_json::from_str(line) {
            Ok(Value::Object(event)) => event,
            other => panic!("not a JSON object ({other:?}): {line:?}"),
        })
        .collect()
}

/// The events `log_request` wrote: `{"fields": {"message": "request", ...}}`.
fn request_events(events: &[Map<String, Value>]) -> Vec<&Map<String, Value>> {
    events
        .iter()
        .filter(|e| e["fields"]["message"] == "request")
        .collect()
}

#[tokio::test]
async fn a_log_redirected_to_a_file_has_no_colour_codes() {
    let _share = load::share().await;
    let server = SesiServer::serve(&[("SESI_SECRET", SECRET), COLOUR_ALLOWED], &[]);
    server.visitor().get("/").await.expect_status(200);
    let (status, log) = server.terminate();
    assert!(status.success(), "{status}:\n{log}");
    assert!(!log.contains('\x1b'), "an escape code in the log:\n{log:?}");
    // It is the text log, levels and request fields included.
    assert!(
        log.lines()
            .any(|l| l.contains(" INFO ") && l.contains(" request ") && l.contains("status=200")),
        "{log}"
    );
}

/// Under a terminal (`script` gives the program one), text is coloured unless `NO_COLOR` is set;
/// JSON never is. `--spill` without a store makes `serve` log its secrets line and exit.
#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_text_is_coloured_unless_no_color_and_json_never() {
    let has_script = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        crate::support::skip::skip("`script` (util-linux) is not installed, needed for a terminal");
        return;
    }
    let _share = load::share_blocking();
    let on_terminal = |no_color: &str, format: &str| {
        let home = tempfile::TempDir::new().expect("a temporary home");
        let sesi = sesi_command(home.path());
        let mut cmd = Command::new("script");
        for (name, value) in sesi.get_envs() {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
        let line = format!(
            "'{}' serve --spill --log-format {format}",
            sesi.get_program().to_string_lossy()
        );
        cmd.args(["-qec", &line, "/dev/null"])
            .env("SESI_SECRET", SECRET)
            .env("NO_COLOR", no_color);
        let out = run(cmd, None);
        assert_eq!(out.code(), 2, "{out:?}");
        assert!(out.stdout.contains("secrets from"), "{out:?}");
        out.stdout
    };
    let coloured = on_terminal("", "text");
    assert!(coloured.contains("\x1b["), "no colours:\n{coloured:?}");
    let plain = on_terminal("1", "text");
    assert!(
        !plain.contains('\x1b'),
        "colours with NO_COLOR=1:\n{plain:?}"
    );
    let json = on_terminal("", "json");
    assert!(!json.contains('\x1b'), "colours in JSON:\n{json:?}");
}

#[tokio::test]
async fn json_log_is_one_object_per_line_and_request_lines_carry_their_fields() {
    let _share = load::share().await;
    let env = [
        ("SESI_SECRET", SECRET),
        ("SESI_LOG_FORMAT", "json"),
        COLOUR_ALLOWED,
    ];
    let server = SesiServer::serve(&env, &[]);
    let visitor = server.visitor();
    visitor.get("/").await.expect_status(200);
    visitor.get("/").await.expect_status(200);
    visitor.get("/healthz").await.expect_status(200);
    Visitor::manual(&server.base)
        .get("/nowhere")
        .await
        .expect_status(404);
    let (status, log) = server.terminate();
    assert!(status.success(), "{status}:\n{log}");
    assert!(!log.contains('\x1b'), "an escape code in the log:\n{log:?}");

    let events = json_lines(&log);
    let requests = request_events(&events);
    let seen: Vec<(&str, u64, &str)> = requests
        .iter()
        .map(|e| {
            let fields = &e["fields"];
            for name in ["method", "path", "session", "cookie"] {
                assert!(fields[name].is_string(), "{name} in {e:?}");
            }
            assert!(fields["latency_us"].is_u64(), "latency_us in {e:?}");
            assert_eq!(e["level"], "INFO", "{e:?}");
            assert_eq!(e["target"], "sesi_app::routes", "{e:?}");
            assert_eq!(fields["method"], "GET", "{e:?}");
            (
                fields["path"].as_str().expect("a string"),
                fields["status"].as_u64().expect("status is a number"),
                fields["session"].as_str().expect("a string"),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("/", 200, "absent"),
            ("/", 200, "valid"),
            ("/healthz", 200, "-"),
            ("/nowhere", 404, "untouched"),
        ],
        "{log}"
    );
    let last = events.last().expect("a log");
    assert_eq!(last["fields"]["message"], "sesi stopped", "{log}");
}

#[tokio::test]
async fn every_request_line_is_written_even_with_a_slow_stderr_and_at_shutdown() {
    let _share = load::share().await;
    let server = SesiServer::serve_with_slow_stderr(
        &[("SESI_SECRET", SECRET)],
        &["--log-format", "json"],
        SLOW_STDERR,
    );
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let client = Visitor::manual(&server.base);
            tokio::spawn(async move {
                for _ in 0..REQUESTS / CLIENTS {
                    client.get("/healthz").await.expect_status(200);
                }
            })
        })
        .collect();
    for client in clients {
        client.await.expect("a client does not panic");
    }
    let (status, log) = server.terminate();
    let tail = |n: usize| {
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    };
    assert!(status.success(), "{status}:\n{}", tail(20));

    let events = json_lines(&log);
    let healthz = request_events(&events)
        .iter()
        .filter(|e| e["fields"]["path"] == "/healthz")
        .count();
    assert_eq!(
        healthz,
        REQUESTS,
        "request lines in the log; its end:\n{}",
        tail(5)
    );
    let last = events.last().expect("a log");
    assert_eq!(last["fields"]["message"], "sesi stopped", "{}", tail(5));
}

#[test]
fn an_unknown_log_format_is_refused_with_the_valid_ones() {
    let flag = run_sesi(&["serve", "--log-format", "xml"], &[], None);
    let env = run_sesi(&["serve"], &[("SESI_LOG_FORMAT", "xml")], None);
    for run in [flag, env] {
        assert_eq!(run.code(), 2, "{run:?}");
        for needle in ["'xml'", "--log-format", "[possible values: text, json]"] {
            assert!(
                run.stderr.contains(needle),
                "{needle:?} in:\n{}",
                run.stderr
            );
        }
        assert!(!run.stderr.contains("listening"), "{}", run.stderr);
    }
}
