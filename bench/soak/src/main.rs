//! Soak test: many visitors, each with its own cookie jar, send a mix of counter pages, API
//! increments (sometimes two at once, on both servers), cart changes and session reads to two
//! `sesi serve --store redis://... --lock` processes sharing one persistent Redis
//! (`appendonly yes`, `appendfsync always`), which is stopped and started again during the run:
//! once gracefully (SIGTERM), once by a crash (SIGKILL). Every answer is checked against what the
//! visitor was acknowledged before; at the end every session is read on every server.
//!
//! It passes when no acknowledged increment was lost, no session was lost or corrupted, every 503
//! came during an outage (from the stop until `--grace-secs` after Redis answered again), and
//! nothing else failed. `bench/soak.sh` builds and runs it.

mod procs;
mod report;
mod visitor;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;

use procs::{Redis, Sesi, Stop};
use report::{Outage, Tally, classify};
use visitor::Visitor;

/// A 64-byte secret for the soak's servers.
const SECRET: &str = "sesi-soak-secret-0123456789abcdef-not-a-real-secret-0123456789ab";

#[derive(Parser)]
#[command(about = "Soak sesi serve --store redis --lock through Redis restarts")]
struct Args {
    /// The `sesi` binary (a release build).
    #[arg(long)]
    sesi: PathBuf,
    /// The redis-server binary.
    #[arg(long, default_value = "redis-server")]
    redis_server: String,
    /// A scratch directory for Redis's files and the logs.
    #[arg(long)]
    work_dir: PathBuf,
    /// Concurrent visitors, each with its own cookie jar.
    #[arg(long, default_value_t = 200)]
    visitors: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 180)]
    duration_secs: u64,
    /// Redis restarts, spread evenly over the run (odd ones graceful, even ones crashes).
    #[arg(long, default_value_t = 2)]
    restarts: u32,
    /// Seconds Redis stays down each time.
    #[arg(long, default_value_t = 3)]
    outage_secs: u64,
    /// Mean pause of a visitor between requests, in milliseconds.
    #[arg(long, default_value_t = 20)]
    think_ms: u64,
    /// Seconds after Redis answers again during which a 503 still counts as the outage's.
    #[arg(long, default_value_t = 5)]
    grace_secs: u64,
    /// Self-check of the harness: run Redis without persistence, which must fail the soak
    /// (sessions lost in the restarts).
    #[arg(long)]
    no_persistence: bool,
    /// Self-check of the harness: run the servers without `--lock`, which must fail the soak
    /// (parallel increments lose updates).
    #[arg(long)]
    no_lock: bool,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    std::fs::create_dir_all(&args.work_dir).expect("the work directory");
    let mut redis = Redis::start(&args.redis_server, &args.work_dir, !args.no_persistence);
    let mut servers: Vec<Sesi> = (0..2)
        .map(|n| {
            Sesi::start(
                &args.sesi,
                &redis.url(),
                !args.no_lock,
                SECRET,
                &args.work_dir,
                n,
            )
        })
        .collect();
    let bases = Arc::new(servers.iter().map(|s| s.base.clone()).collect::<Vec<_>>());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("an HTTP client");
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let visitors: Vec<_> = (0..args.visitors)
        .map(|n| {
            let visitor = Visitor::new(
                client.clone(),
                bases.clone(),
                tally.clone(),
                n as u64 + 1,
                Duration::from_millis(args.think_ms),
            );
            tokio::spawn(visitor.run(stop.clone()))
        })
        .collect();

    let duration = Duration::from_secs(args.duration_secs);
    let mut outages = Vec::new();
    for k in 1..=args.restarts {
        let at = start + duration * k / (args.restarts + 1);
        tokio::time::sleep_until(at.into()).await;
        let how = if k % 2 == 1 {
            Stop::Graceful
        } else {
            Stop::Crash
        };
        let outage = Duration::from_secs(args.outage_secs);
        let (back, down, up) = tokio::task::spawn_blocking(move || {
            let down = Instant::now();
            redis.stop(how);
            std::thread::sleep(outage);
            redis.restart();
            (redis, down, Instant::now())
        })
        .await
        .expect("the restart task");
        redis = back;
        let how = match how {
            Stop::Graceful => "SIGTERM",
            Stop::Crash => "SIGKILL",
        };
        eprintln!(
            "soak: Redis {how} at {:.1} s, answering again {:.2} s later",
            (down - start).as_secs_f64(),
            (up - down).as_secs_f64()
        );
        outages.push(Outage { down, up, how });
    }
    tokio::time::sleep_until((start + duration).into()).await;
    stop.store(true, Ordering::Relaxed);
    for visitor in visitors {
        visitor.await.expect("a visitor task");
    }
    let elapsed = start.elapsed();
    let alive = servers.iter_mut().all(Sesi::running);
    assert!(redis.answers_ping(), "Redis is up at the end");

    let counts = tally.snapshot();
    let grace = Duration::from_secs(args.grace_secs);
    let (inside, outside, latest) = classify(&counts.unavailable, &outages, grace);
    println!("| | |");
    println!("|---|---:|");
    println!("| visitors (cookie jars) | {} |", args.visitors);
    println!("| duration | {:.0} s |", elapsed.as_secs_f64());
    for o in &outages {
        println!(
            "| Redis outage ({}) | {:.1} s from {:.0} s |",
            o.how,
            (o.up - o.down).as_secs_f64(),
            (o.down - start).as_secs_f64()
        );
    }
    println!("| requests | {} |", counts.requests);
    println!("| answered 2xx | {} |", counts.ok);
    println!(
        "| 503 during an outage (from the stop until {} s after Redis answered) | {inside}, the last {:.2} s after Redis answered |",
        args.grace_secs,
        latest.as_secs_f64()
    );
    println!("| 503 outside an outage | {} |", outside.len());
    println!("| other errors | {} |", counts.errors.len());
    println!("| increments acknowledged | {} |", counts.increments);
    println!("| lost increments | {} |", counts.lost_increments);
    println!("| lost sessions | {} |", counts.lost_sessions);
    println!("| corrupted sessions | {} |", counts.corrupted.len());
    println!(
        "| writes answered 503, then found applied / not applied | {} / {} |",
        counts.ambiguous_applied, counts.ambiguous_not_applied
    );
    println!(
        "| sessions verified at the end (on both servers) | {} |",
        counts.final_checks
    );
    for e in counts.errors.iter().chain(&counts.corrupted).take(20) {
        eprintln!("soak: {e}");
    }
    for (at, body) in outside.iter().take(20) {
        let at = at.duration_since(start).as_secs_f64();
        eprintln!("soak: a 503 outside an outage, at {at:.2} s: {body}");
    }
    let passed = alive
        && outside.is_empty()
        && counts.errors.is_empty()
        && counts.lost_increments == 0
        && counts.lost_sessions == 0
        && counts.corrupted.is_empty()
        && counts.final_checks == 2 * args.visitors as u64;
    if !passed {
        eprintln!(
            "soak: FAILED (servers alive: {alive}); logs in {}",
            args.work_dir.display()
        );
        // `exit` runs no destructors: stop the servers and Redis first.
        drop(servers);
        drop(redis);
        std::process::exit(1);
    }
    eprintln!("soak: passed");
}
