//! `sesi serve` on Redis as production runs it: TLS with a private CA and a client certificate,
//! a three-master cluster, and a sentinel set whose master is killed while a visitor counts.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use sesi_testkit::certs::TestCerts;
use sesi_testkit::free_port;
use sesi_testkit::redis::{RedisCluster, RedisSentinelSet, RedisServer, TempDir, Transport};

use super::serve;
use crate::support::cookie::SECRET;
use crate::support::http::Visitor;
use crate::support::load;
use crate::support::process::run_sesi;

/// The `--redis-*` flags for `certs`' CA and client certificate.
fn tls_flags(ca: &TestCerts, client: &TestCerts) -> Vec<String> {
    vec![
        "--redis-ca-file".into(),
        ca.ca_cert.display().to_string(),
        "--redis-client-cert".into(),
        client.client_cert.display().to_string(),
        "--redis-client-key".into(),
        client.client_key.display().to_string(),
    ]
}

/// One visitor counting `n` times on the servers in turn, then filling a cart on one and
/// reading it on the other.
async fn one_visitor_on_both(on: &[Visitor; 2], n: i64) {
    let token = on[0].token().await;
    for i in 0..n {
        let at = usize::try_from(i % 2).expect("0 or 1");
        assert_eq!(
            on[at].count(&token).await,
            i + 1,
            "count {i} on server {at}"
        );
    }
    on[1].add("kopi-tubruk", 2).await;
    assert_eq!(on[0].cart().await, vec![("kopi-tubruk".to_owned(), 2)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_over_tls_with_a_private_ca_and_a_client_certificate() {
    let _share = load::share().await;
    let dir = TempDir::new("app-tls");
    let certs = TestCerts::generate(dir.path());
    let other = TestCerts::generate_labelled(dir.path(), "other");
    let Some(redis) =
        RedisServer::start(dir.path(), free_port(), Transport::Tls, Some(&certs), &[])
    else {
        return;
    };
    let url = format!("rediss://127.0.0.1:{}", redis.port());
    let flags = tls_flags(&certs, &certs);
    let args: Vec<&str> = flags.iter().map(String::as_str).collect();
    let servers = [
        serve(&url, &args),
        serve(&url, &[&args[..], &["--lock"]].concat()),
    ];
    let browser = servers[0].visitor();
    one_visitor_on_both(&[browser.clone(), browser.at(&servers[1].base)], 6).await;

    // A server whose certificate the given CA did not sign: refused at startup, and said so.
    let wrong = tls_flags(&other, &certs);
    let mut run_args = vec!["serve", "--addr", "127.0.0.1:0", "--store", &url];
    run_args.extend(wrong.iter().map(String::as_str));
    let run = run_sesi(&run_args, &[("SESI_SECRET", SECRET)], None);
    assert_ne!(run.code(), 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot reach Redis at rediss://")
            && run.stderr.contains("certificate")
            && run.stderr.contains("--redis-ca-file"),
        "the refusal names the certificate and the flag to check:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);

    // TLS files for a plain URL or for no Redis at all are a settings error, before any dial.
    for store in ["redis://127.0.0.1:1", "memory"] {
        let mut run_args = vec!["serve", "--addr", "127.0.0.1:0", "--store", store];
        run_args.extend(args.iter().copied());
        let run = run_sesi(&run_args, &[("SESI_SECRET", SECRET)], None);
        assert_ne!(run.code(), 0);
        assert!(
            run.stderr.contains("rediss://"),
            "{store}: says to use rediss://:\n{}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_a_cluster_shares_visitors_between_two_servers_with_locking() {
    let _share = load::share().await;
    let Some(cluster) = RedisCluster::start(Transport::Plain) else {
        return;
    };
    let servers = [
        serve(&cluster.url(), &["--lock"]),
        serve(&cluster.url(), &["--lock"]),
    ];
    let browser = servers[0].visitor();
    one_visitor_on_both(&[browser.clone(), browser.at(&servers[1].base)], 10).await;
    assert!(
        servers[0].log().contains("redis+cluster://127.0.0.1:"),
        "the log names the store"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_through_a_sentinel_keeps_serving_when_the_master_dies() {
    let _share = load::share().await;
    let Some(mut set) = RedisSentinelSet::start(Transport::Plain) else {
        return;
    };
    let mut server = serve(&set.url(), &["--lock", "--store-timeout-ms", "500"]);
    let visitor = server.visitor();
    let token = visitor.token().await;
    let mut last = 0;
    for _ in 0..5 {
        last = visitor.count(&token).await;
    }
    // Everything so far is on the replica: what the failover keeps.
    let waited = set.cli(
        set.master.port(),
        &["wait".into(), "1".into(), "2000".into()],
    );
    assert_eq!(waited.trim(), "1", "replicated");

    let _port_held = set.master.stop_and_hold_port();
    let killed = Instant::now();
    let mut unavailable = 0;
    let mut served_again = None;
    while served_again.is_none() {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "still no master 30 s after the kill:\n{}",
            server.log_tail(20)
        );
        let reply = visitor
            .api(Method::POST, "/api/counter", Some(json!({})), Some(&token))
            .await;
        match reply.status {
            StatusCode::OK => {
                let counter = reply.json()["counter"].as_i64().expect("a count");
                assert_eq!(counter, last + 1, "the count goes on from what Redis kept");
                last = counter;
                served_again = Some(killed.elapsed());
            }
            StatusCode::SERVICE_UNAVAILABLE => unavailable += 1,
            other => {
                // What the promoted replica holds tells a session sesi lost from one Redis
                // itself dropped.
                let port = set.replica.port();
                let role = set.cli(port, &["role".into()]);
                let keyspace = set.cli(port, &["info".into(), "keyspace".into()]);
                panic!(
                    "only 503 during the switch, not {other}: {}\nthe replica now: {role}\n\
                     {keyspace}\n{}",
                    reply.body,
                    server.log_tail(15)
                )
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..10 {
        let next = visitor.count(&token).await;
        assert_eq!(next, last + 1, "every count after the switch is kept");
        last = next;
    }
    assert!(unavailable > 0, "the switch was seen as 503s");
    server.assert_healthy();
    eprintln!(
        "master killed: {unavailable} answers of 503, served again after {:?}",
        served_again.expect("set above")
    );
}
