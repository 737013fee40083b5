//! One virtual client: a keep-alive HTTP/1.1 connection, a cookie jar, and
//! the expected value of its counter.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpStream;

use crate::jar::{CookieJar, parse_counter};

/// Highest latency the histograms track, in microseconds (a minute); longer
/// ones are recorded as this value. Requests time out long before.
const MAX_LATENCY_US: u64 = 60_000_000;

/// How many distinct error messages are kept as examples for the report.
const MAX_SAMPLES: usize = 5;

/// Pause after a failed connection attempt, doubled on each further failure up
/// to [`MAX_BACKOFF`], so a dead server is not hammered in a tight loop.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_millis(200);

/// What every client shares: where to send, what to check, when to stop.
#[derive(Debug)]
pub struct Plan {
    /// The loopback socket to connect to.
    pub addr: SocketAddr,
    /// The `Host` header.
    pub authority: String,
    /// The request target (path and query).
    pub path: String,
    /// Each request starts with an empty jar (a new visitor every time).
    pub fresh_visitors: bool,
    /// Latencies and successes count from this instant on.
    pub measure_from: Instant,
    /// No request starts at or after this instant.
    pub deadline: Instant,
    /// No more than this many requests are started in total, over all clients.
    pub max_requests: u64,
    /// Requests started so far, over all clients.
    pub started: AtomicU64,
    /// Bound on one request, connecting included.
    pub timeout: Duration,
}

/// Errors by kind. Every one of them fails the run.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct ErrorCounts {
    /// The TCP connection or HTTP handshake failed.
    pub connect: u64,
    /// The request or response broke off mid-way.
    pub transport: u64,
    /// No complete response within `--timeout`.
    pub timeout: u64,
    /// A status other than 200.
    pub status: u64,
    /// The body has no `id="counter">N<`.
    pub body: u64,
    /// The counter did not rise by exactly one.
    pub count: u64,
}

impl ErrorCounts {
    /// All errors together.
    pub fn total(&self) -> u64 {
        self.connect + self.transport + self.timeout + self.status + self.body + self.count
    }

    fn add(&mut self, other: &Self) {
        self.connect += other.connect;
        self.transport += other.transport;
        self.timeout += other.timeout;
        self.status += other.status;
        self.body += other.body;
        self.count += other.count;
    }
}

/// What one client (or, merged, all of them) saw.
#[derive(Debug)]
pub struct Stats {
    /// Latencies of the successful requests in the measured window, in µs.
    pub latency_us: Histogram<u64>,
    /// Successful requests in the measured window.
    pub measured_ok: u64,
    /// Successful requests, warm-up included.
    pub total_ok: u64,
    /// Requests sent, warm-up and failures included.
    pub total_sent: u64,
    /// Failures by kind, warm-up included.
    pub errors: ErrorCounts,
    /// The first few error messages.
    pub samples: Vec<String>,
}

impl Stats {
    /// Empty statistics.
    pub fn new() -> Self {
        Self {
            latency_us: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                .expect("constant bounds are valid"),
            measured_ok: 0,
            total_ok: 0,
            total_sent: 0,
            errors: ErrorCounts::default(),
            samples: Vec::new(),
        }
    }

    /// Adds another client's statistics to these.
    pub fn merge(&mut self, other: &Self) {
        self.latency_us
            .add(&other.latency_us)
            .expect("histograms built with the same bounds");
        self.measured_ok += other.measured_ok;
        self.total_ok += other.total_ok;
        self.total_sent += other.total_sent;
        self.errors.add(&other.errors);
        for sample in &other.samples {
            self.sample(sample.clone());
        }
    }

    fn sample(&mut self, message: String) {
        if self.samples.len() < MAX_SAMPLES && !self.samples.contains(&message) {
            self.samples.push(message);
        }
    }

    fn fail(&mut self, failure: &Failure) {
        let slot = match failure {
            Failure::Connect(_) => &mut self.errors.connect,
            Failure::Transport(_) => &mut self.errors.transport,
            Failure::Timeout(_) => &mut self.errors.timeout,
            Failure::Status(_) => &mut self.errors.status,
            Failure::Body(_) => &mut self.errors.body,
            Failure::Count { .. } => &mut self.errors.count,
        };
        *slot += 1;
        self.sample(failure.to_string());
    }
}

/// Why one request failed.
#[derive(Debug)]
enum Failure {
    Connect(String),
    Transport(String),
    Timeout(Duration),
    Status(StatusCode),
    Body(String),
    Count { expected: u64, got: u64 },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connect(e) => write!(f, "connect: {e}"),
            Self::Transport(e) => write!(f, "transport: {e}"),
            Self::Timeout(t) => write!(f, "no complete response within {t:?}"),
            Self::Status(s) => write!(f, "status {s}, expected 200 OK"),
            Self::Body(start) => write!(f, "no id=\"counter\">N< in body starting {start:?}"),
            Self::Count { expected, got } => write!(f, "counter {got}, expected {expected}"),
        }
    }
}

/// A complete response.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// Runs one virtual client until the deadline or the request budget is used up.
pub async fn run(plan: Arc<Plan>) -> Stats {
    let mut stats = Stats::new();
    let mut conn: Option<SendRequest<Empty<Bytes>>> = None;
    let mut jar = CookieJar::default();
    // The counter this visitor was last shown; a new visitor has seen none.
    let mut last = 0_u64;
    let mut backoff = FIRST_BACKOFF;
    loop {
        if Instant::now() >= plan.deadline
            || plan.started.fetch_add(1, Ordering::Relaxed) >= plan.max_requests
        {
            break;
        }
        if plan.fresh_visitors {
            jar.clear();
            last = 0;
        }
        let sent_at = Instant::now();
        stats.total_sent += 1;
        let reply = match tokio::time::timeout(plan.timeout, exchange(&plan, &mut conn, &jar)).await
        {
            Ok(reply) => reply,
            Err(_) => Err(Failure::Timeout(plan.timeout)),
        };
        let latency = sent_at.elapsed();
        match reply.and_then(|reply| check(reply, &mut jar, &mut last)) {
            Ok(()) => {
                backoff = FIRST_BACKOFF;
                stats.total_ok += 1;
                if sent_at >= plan.measure_from {
                    stats.measured_ok += 1;
                    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                    stats.latency_us.saturating_record(micros.max(1));
                }
            }
            Err(failure) => {
                match failure {
                    // The visitor's state is unknown after these: start over on
                    // a new connection as a new visitor.
                    Failure::Connect(_)
                    | Failure::Transport(_)
                    | Failure::Timeout(_)
                    | Failure::Status(_)
                    | Failure::Body(_) => {
                        conn = None;
                        jar.clear();
                        last = 0;
                    }
                    // `check` already took the server's value as the new
                    // baseline, so one wrong answer is counted once.
                    Failure::Count { .. } => {}
                }
                stats.fail(&failure);
                if matches!(failure, Failure::Connect(_)) {
                    let until = (Instant::now() + backoff).min(plan.deadline);
                    tokio::time::sleep_until(until.into()).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
    stats
}

/// Applies the response's cookies to the jar and checks its counter.
fn check(reply: Reply, jar: &mut CookieJar, last: &mut u64) -> Result<(), Failure> {
    for value in &reply.headers.get_all(header::SET_COOKIE) {
        if let Ok(value) = value.to_str() {
            jar.store(value);
        }
    }
    if reply.status != StatusCode::OK {
        return Err(Failure::Status(reply.status));
    }
    let got = parse_counter(&reply.body).ok_or_else(|| {
        let start = &reply.body[..reply.body.len().min(80)];
        Failure::Body(String::from_utf8_lossy(start).into_owned())
    })?;
    let expected = *last + 1;
    *last = got;
    if got == expected {
        Ok(())
    } else {
        Err(Failure::Count { expected, got })
    }
}

/// Sends one `GET` with the jar's cookies on the client's connection,
/// (re)connecting first when there is no usable one, and reads the whole reply.
async fn exchange(
    plan: &Plan,
    conn: &mut Option<SendRequest<Empty<Bytes>>>,
    jar: &CookieJar,
) -> Result<Reply, Failure> {
    let sender = ready_sender(plan, conn).await?;
    let mut request = Request::get(plan.path.as_str()).header(header::HOST, &plan.authority);
    if let Some(cookies) = jar.header() {
        request = request.header(header::COOKIE, cookies);
    }
    let request = request
        .body(Empty::new())
        .map_err(|e| Failure::Transport(format!("building the request: {e}")))?;
    // On failure the caller drops the connection.
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| Failure::Transport(e.to_string()))?;
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| Failure::Transport(format!("reading the body: {e}")))?;
    let closing = parts
        .headers
        .get(header::CONNECTION)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    if closing {
        *conn = None;
    }
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body: body.to_bytes(),
    })
}

/// The client's connection, ready for a request. A connection the server has
/// closed between requests (idle timeout, `Connection: close`) is replaced
/// without counting an error: no request was lost on it.
async fn ready_sender<'c>(
    plan: &Plan,
    conn: &'c mut Option<SendRequest<Empty<Bytes>>>,
) -> Result<&'c mut SendRequest<Empty<Bytes>>, Failure> {
    let reusable = match conn.as_mut() {
        Some(sender) => sender.ready().await.is_ok(),
        None => false,
    };
    if !reusable {
        let mut sender = connect(plan).await?;
        sender
            .ready()
            .await
            .map_err(|e| Failure::Connect(e.to_string()))?;
        *conn = Some(sender);
    }
    Ok(conn.as_mut().expect("a connection was set above"))
}

/// Opens a new HTTP/1.1 connection; its driver runs as its own task and ends
/// when the `SendRequest` is dropped or the server closes the socket.
async fn connect(plan: &Plan) -> Result<SendRequest<Empty<Bytes>>, Failure> {
    let stream = TcpStream::connect(plan.addr)
        .await
        .map_err(|e| Failure::Connect(format!("{}: {e}", plan.addr)))?;
    stream
        .set_nodelay(true)
        .map_err(|e| Failure::Connect(format!("TCP_NODELAY: {e}")))?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| Failure::Connect(format!("handshake: {e}")))?;
    tokio::spawn(async move {
        // Failures surface on the sender side as transport errors.
        let _ = connection.await;
    });
    Ok(sender)
}
