//! `loadgen`: a closed-loop HTTP/1.1 load generator for the sesi benchmark.
//!
//! It runs `--clients` virtual clients on one thread (`run.sh` pins it to one
//! core). Each client keeps one keep-alive connection and its own cookie jar:
//! it sends back the latest `Set-Cookie` value of every cookie it was given, so
//! every request makes a session server verify, decode, encode and sign. Each
//! page must show the client's counter one higher than the last (1 for a new
//! visitor); anything else is an error, counted by kind.
//!
//! Exit status: 0 when every request succeeded (and at least one did), 1 when
//! any failed, 2 on bad arguments.

mod client;
mod jar;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use clap::Parser;
use http::Uri;
use serde::Serialize;

use crate::client::{ErrorCounts, Plan, Stats};

/// Closed-loop HTTP/1.1 load generator with a cookie jar per virtual client
/// and a check of the counter page on every response.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Page to load; only loopback targets are accepted.
    #[arg(long, default_value = "http://127.0.0.1:8080/")]
    url: String,
    /// Concurrent virtual clients, each with a connection and a cookie jar.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    clients: u32,
    /// Seconds of load before measuring (counters are still checked).
    #[arg(long, default_value_t = 3.0, value_parser = seconds(0.0, 600.0))]
    warmup: f64,
    /// Seconds of measured load after the warm-up.
    #[arg(long, default_value_t = 10.0, value_parser = seconds(0.001, 3600.0))]
    duration: f64,
    /// Stop after this many requests in total (warm-up included).
    #[arg(long, default_value_t = 50_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_requests: u64,
    /// Every request starts with an empty cookie jar: a new visitor each time.
    #[arg(long)]
    fresh_visitors: bool,
    /// Seconds one request may take, connecting included, before it fails.
    #[arg(long, default_value_t = 5.0, value_parser = seconds(0.001, 60.0))]
    timeout: f64,
    /// Print the report as one line of JSON.
    #[arg(long)]
    json: bool,
}

/// A clap parser for a number of seconds within `[min, max]`.
fn seconds(min: f64, max: f64) -> impl Fn(&str) -> Result<f64, String> + Clone {
    move |raw| {
        let secs: f64 = raw.parse().map_err(|e| format!("{e}"))?;
        if (min..=max).contains(&secs) {
            Ok(secs)
        } else {
            Err(format!("{secs} is not within {min}..={max} seconds"))
        }
    }
}

/// Where the requests go, checked to be on this machine.
#[derive(Debug)]
struct Target {
    addr: SocketAddr,
    authority: String,
    path: String,
}

impl Target {
    fn parse(url: &str) -> Result<Self, String> {
        let uri: Uri = url.parse().map_err(|e| format!("--url {url:?}: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!("--url {url:?}: only http:// is supported"));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("--url {url:?} has no host"))?;
        let host = authority.host();
        let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
            Ipv4Addr::LOCALHOST.into()
        } else {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .map_err(|_| format!("--url {url:?}: the host must be an IP address"))?
        };
        if !ip.is_loopback() {
            return Err(format!(
                "--url {url:?}: refusing to load {ip}; only loopback addresses are targets"
            ));
        }
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        Ok(Self {
            addr: SocketAddr::new(ip, authority.port_u16().unwrap_or(80)),
            authority: authority.as_str().to_owned(),
            path,
        })
    }
}

/// The result of a run, as printed.
#[derive(Debug, Serialize)]
struct Report {
    url: String,
    clients: u32,
    fresh_visitors: bool,
    warmup_s: f64,
    /// Length of the measured window, as it actually ran.
    measured_s: f64,
    /// Successful requests in the measured window.
    requests: u64,
    /// `requests` / `measured_s`.
    rps: f64,
    p50_us: u64,
    p90_us: u64,
    p99_us: u64,
    max_us: u64,
    mean_us: f64,
    /// Requests sent, warm-up and failures included.
    total_sent: u64,
    /// Successful requests, warm-up included.
    total_ok: u64,
    errors: u64,
    errors_by_kind: ErrorCounts,
    error_samples: Vec<String>,
}

impl Report {
    fn new(args: &Args, stats: Stats, measured: Duration) -> Self {
        let measured_s = measured.as_secs_f64();
        let rps = if measured_s > 0.0 {
            stats.measured_ok as f64 / measured_s
        } else {
            0.0
        };
        let h = &stats.latency_us;
        Self {
            url: args.url.clone(),
            clients: args.clients,
            fresh_visitors: args.fresh_visitors,
            warmup_s: args.warmup,
            measured_s,
            requests: stats.measured_ok,
            rps,
            p50_us: h.value_at_quantile(0.50),
            p90_us: h.value_at_quantile(0.90),
            p99_us: h.value_at_quantile(0.99),
            max_us: h.max(),
            mean_us: h.mean(),
            total_sent: stats.total_sent,
            total_ok: stats.total_ok,
            errors: stats.errors.total(),
            errors_by_kind: stats.errors,
            error_samples: stats.samples,
        }
    }

    fn passed(&self) -> bool {
        self.errors == 0 && self.total_ok > 0
    }

    fn print_text(&self) {
        let ms = |us: u64| Duration::from_micros(us).as_secs_f64() * 1e3;
        let visitors = if self.fresh_visitors {
            "a new visitor per request"
        } else {
            "one cookie jar each"
        };
        println!("url       {}", self.url);
        println!("clients   {} (keep-alive, {visitors})", self.clients);
        println!(
            "measured  {:.2} s after {:.2} s warm-up",
            self.measured_s, self.warmup_s
        );
        println!("requests  {} ({:.1} req/s)", self.requests, self.rps);
        println!(
            "latency   p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
            ms(self.p50_us),
            ms(self.p90_us),
            ms(self.p99_us),
            ms(self.max_us)
        );
        println!(
            "total     {} sent, {} ok (warm-up included)",
            self.total_sent, self.total_ok
        );
        let e = &self.errors_by_kind;
        println!(
            "errors    {} (connect {}, transport {}, timeout {}, status {}, body {}, count {})",
            self.errors, e.connect, e.transport, e.timeout, e.status, e.body, e.count
        );
        for sample in &self.error_samples {
            println!("  e.g.    {sample}");
        }
    }
}

async fn run(args: &Args, target: Target) -> Report {
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let plan = Arc::new(Plan {
        addr: target.addr,
        authority: target.authority,
        path: target.path,
        fresh_visitors: args.fresh_visitors,
        measure_from,
        deadline: measure_from + Duration::from_secs_f64(args.duration),
        max_requests: args.max_requests,
        started: AtomicU64::new(0),
        timeout: Duration::from_secs_f64(args.timeout),
    });
    let clients: Vec<_> = (0..args.clients)
        .map(|_| tokio::spawn(client::run(Arc::clone(&plan))))
        .collect();
    let mut stats = Stats::new();
    for client in clients {
        let client = client.await.expect("a client task never panics");
        stats.merge(&client);
    }
    let measured = Instant::now().saturating_duration_since(measure_from);
    Report::new(args, stats, measured)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let target = match Target::parse(&args.url) {
        Ok(target) => target,
        Err(msg) => {
            eprintln!("loadgen: {msg}");
            return ExitCode::from(2);
        }
    };
    // One thread: run.sh gives the load generator exactly one core.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("loadgen: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(run(&args, target));
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).expect("the report serializes")
        );
    } else {
        report.print_text();
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        if report.total_ok == 0 && report.errors == 0 {
            eprintln!("loadgen: no request completed");
        }
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets_are_accepted() {
        let t = Target::parse("http://127.0.0.1:9000/").expect("loopback v4");
        assert_eq!(t.addr, "127.0.0.1:9000".parse().expect("literal"));
        assert_eq!(
            (t.authority.as_str(), t.path.as_str()),
            ("127.0.0.1:9000", "/")
        );
        let t = Target::parse("http://localhost:9000/x?y=1").expect("localhost");
        assert_eq!(t.addr, "127.0.0.1:9000".parse().expect("literal"));
        assert_eq!(t.path, "/x?y=1");
        let t = Target::parse("http://[::1]:9000").expect("loopback v6");
        assert_eq!(t.addr, "[::1]:9000".parse().expect("literal"));
    }

    #[test]
    fn other_targets_are_refused() {
        for url in [
            "http://10.0.0.1:80/",
            "http://192.168.1.2/",
            "http://example.com/",
            "https://127.0.0.1/",
            "127.0.0.1:80",
        ] {
            assert!(Target::parse(url).is_err(), "{url} must be refused");
        }
    }
}
