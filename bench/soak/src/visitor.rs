//! One visitor: a cookie jar, a model of what its session must hold, and a loop of counter, cart
//! and API requests spread over the servers. Every 2xx answer is checked against the model; a
//! 503 leaves a write undecided until the store is back, when the session must hold either the
//! state before it or the state after it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::report::Tally;

const PRODUCTS: [&str; 12] = [
    "kopi-tubruk",
    "es-teh-manis",
    "nasi-goreng",
    "mie-goreng",
    "sate-ayam",
    "gado-gado",
    "rendang",
    "soto-ayam",
    "bakso",
    "pisang-goreng",
    "martabak-manis",
    "es-cendol",
];

type Cart = BTreeMap<String, u64>;

/// What a session holds that the soak checks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Model {
    counter: i64,
    cart: Cart,
}

/// An answer, or why there was none.
struct Answer {
    status: u16,
    body: String,
}

pub struct Visitor {
    client: Client,
    servers: Arc<Vec<String>>,
    tally: Arc<Tally>,
    cookie: Option<String>,
    token: String,
    model: Model,
    rng: u64,
    think: Duration,
}

impl Visitor {
    pub fn new(
        client: Client,
        servers: Arc<Vec<String>>,
        tally: Arc<Tally>,
        seed: u64,
        think: Duration,
    ) -> Visitor {
        Visitor {
            client,
            servers,
            tally,
            cookie: None,
            token: String::new(),
            model: Model::default(),
            rng: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            think,
        }
    }

    /// xorshift64: deterministic per visitor, no dependency.
    fn next(&mut self, below: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % below
    }

    fn server(&mut self) -> String {
        let n = self.next(self.servers.len() as u64) as usize;
        self.servers[n].clone()
    }

    /// Sends one request with the jar's cookie and the CSRF token; counts the answer.
    async fn send(&self, method: Method, url: String, body: Option<Value>) -> Answer {
        let mut request = self
            .client
            .request(method, url)
            .header("x-csrf-token", &self.token);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", format!("session={cookie}"));
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let result = request.send().await;
        let answer = match result {
            Ok(response) => {
                let status = response.status().as_u16();
                let cookie = response
                    .headers()
                    .get_all("set-cookie")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find(|v| v.starts_with("session="))
                    .map(str::to_owned);
                let body = response.text().await.unwrap_or_default();
                Answer {
                    status,
                    body: match cookie {
                        Some(c) => format!("{c}\n{body}"),
                        None => body,
                    },
                }
            }
            Err(e) => Answer {
                status: 0,
                body: format!("no answer: {e}"),
            },
        };
        self.tally.with(|t| {
            t.requests += 1;
            match answer.status {
                200..=299 => t.ok += 1,
                503 => t.unavailable.push((Instant::now(), short(&answer.body))),
                _ => t
                    .errors
                    .push(format!("{}: {}", answer.status, short(&answer.body))),
            }
        });
        answer
    }

    /// Takes the `Set-Cookie` (sent first in the body by [`send`]) into the jar; returns the body.
    fn take_cookie(&mut self, answer: Answer) -> (u16, String) {
        let Answer { status, body } = answer;
        if let Some(rest) = body.strip_prefix("session=") {
            let (line, body) = rest.split_once('\n').unwrap_or((rest, ""));
            let value = line.split(';').next().unwrap_or("");
            self.cookie = (!line.contains("Max-Age=0") && !value.is_empty()).then(|| value.into());
            return (status, body.to_owned());
        }
        (status, body)
    }

    /// The session as `GET /api/session` shows it, retried (with the store down) until a 2xx.
    async fn read_session(&mut self, stop_waiting: Instant) -> Option<Value> {
        loop {
            let url = format!("{}/api/session", self.server());
            let answer = self.send(Method::GET, url, None).await;
            let (status, body) = self.take_cookie(answer);
            if (200..300).contains(&status) {
                let json: Value = serde_json::from_str(&body).ok()?;
                if let Some(token) = json["csrf_token"].as_str() {
                    self.token = token.to_owned();
                }
                return Some(json);
            }
            if Instant::now() > stop_waiting {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Starts the session: a first visit, then the token.
    pub async fn begin(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let _ = self.read_session(deadline).await;
    }

    /// Runs until `stop`; then checks the session on every server.
    pub async fn run(mut self, stop: Arc<AtomicBool>) {
        self.begin().await;
        while !stop.load(Ordering::Relaxed) {
            self.step().await;
            let pause = self.next(2 * self.think.as_millis() as u64 + 1);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        for server in self.servers.clone().iter() {
            let answer = self
                .send(Method::GET, format!("{server}/api/session"), None)
                .await;
            let (status, body) = self.take_cookie(answer);
            let seen = (status == 200)
                .then(|| serde_json::from_str::<Value>(&body).ok())
                .flatten();
            let candidates = [self.model.clone()];
            match seen {
                Some(json) if self.judge(&json, &candidates).is_some() => {
                    self.tally.with(|t| t.final_checks += 1);
                }
                _ => self.tally.with(|t| {
                    t.corrupted.push(format!(
                        "final check on {server}: {status} {}",
                        short(&body)
                    ))
                }),
            }
        }
    }

    /// One request (or two in parallel), checked.
    async fn step(&mut self) {
        let before = self.model.clone();
        match self.next(20) {
            0..=5 => {
                let url = format!("{}/api/counter", self.server());
                let answer = self.send(Method::POST, url, None).await;
                let (status, body) = self.take_cookie(answer);
                let seen = json_field(&body, "counter");
                self.counted(status, &before, 1, seen.map(|n| vec![n]))
                    .await;
            }
            6 | 7 => {
                // Two tabs at once, on both servers: with the lock, neither update is lost.
                let (a, b) = (
                    self.servers[0].clone(),
                    self.servers[1 % self.servers.len()].clone(),
                );
                let (x, y) = tokio::join!(
                    self.send(Method::POST, format!("{a}/api/counter"), None),
                    self.send(Method::POST, format!("{b}/api/counter"), None),
                );
                let (sx, bx) = self.take_cookie(x);
                let (sy, by) = self.take_cookie(y);
                let status = if sx == 503 || sy == 503 {
                    503
                } else {
                    sx.max(sy)
                };
                let seen = json_field(&bx, "counter").zip(json_field(&by, "counter"));
                self.counted(status, &before, 2, seen.map(|(p, q)| vec![p, q]))
                    .await;
            }
            8..=10 => {
                let url = format!("{}/", self.server());
                let answer = self.send(Method::GET, url, None).await;
                let (status, body) = self.take_cookie(answer);
                let seen = page_counter(&body);
                self.counted(status, &before, 1, seen.map(|n| vec![n]))
                    .await;
            }
            11..=15 => self.cart_step(before).await,
            _ => {
                let url = format!("{}/api/session", self.server());
                let answer = self.send(Method::GET, url, None).await;
                let (status, body) = self.take_cookie(answer);
                if status == 503 {
                    self.settle(&[before]).await;
                } else if let Some(json) = parse_2xx(status, &body) {
                    if self.judge(&json, std::slice::from_ref(&before)).is_none() {
                        self.mismatch("a read", &json, &before);
                    }
                }
            }
        }
    }

    /// Checks an answer to `by` increments: the answered counters must be the next ones.
    async fn counted(&mut self, status: u16, before: &Model, by: i64, seen: Option<Vec<i64>>) {
        let candidates: Vec<Model> = (0..=by)
            .map(|n| Model {
                counter: before.counter + n,
                ..before.clone()
            })
            .collect();
        if status == 503 {
            self.settle(&candidates).await;
            return;
        }
        let expected: Vec<i64> = (1..=by).map(|n| before.counter + n).collect();
        match seen.map(|mut s| {
            s.sort_unstable();
            s
        }) {
            Some(s) if s == expected => {
                self.model.counter += by;
                self.tally.with(|t| t.increments += by as u64);
            }
            _ => {
                let json = self
                    .read_session(Instant::now() + Duration::from_secs(30))
                    .await;
                let after = &candidates[candidates.len() - 1];
                match json {
                    Some(json) => self.mismatch("an increment", &json, after),
                    None => self.tally.with(|t| t.corrupted.push("unreadable".into())),
                }
            }
        }
    }

    async fn cart_step(&mut self, before: Model) {
        let product = PRODUCTS[self.next(PRODUCTS.len() as u64) as usize].to_owned();
        let have = before.cart.get(&product).copied().unwrap_or(0);
        let mut after = before.clone();
        let server = self.server();
        let (method, url, body) = if have > 0 && self.next(3) == 0 {
            after.cart.remove(&product);
            (
                Method::DELETE,
                format!("{server}/api/cart/items/{product}"),
                None,
            )
        } else if have + 3 > 99 {
            after.cart.insert(product.clone(), 1);
            let body = json!({"quantity": 1});
            (
                Method::PATCH,
                format!("{server}/api/cart/items/{product}"),
                Some(body),
            )
        } else {
            let quantity = 1 + self.next(3);
            after.cart.insert(product.clone(), have + quantity);
            let body = json!({"product_id": product, "quantity": quantity});
            (Method::POST, format!("{server}/api/cart/items"), Some(body))
        };
        let answer = self.send(method, url, body).await;
        let (status, body) = self.take_cookie(answer);
        if status == 503 {
            self.settle(&[before, after]).await;
            return;
        }
        let seen = parse_2xx(status, &body).map(|json| cart_of_lines(&json["lines"]));
        if seen.as_ref() == Some(&after.cart) {
            self.model = after;
        } else if let Some(json) = self
            .read_session(Instant::now() + Duration::from_secs(30))
            .await
        {
            self.mismatch("a cart change", &json, &after);
        }
    }

    /// After a 503: waits for the store, then the session must be one of `candidates` (the state
    /// before the write, or after it).
    async fn settle(&mut self, candidates: &[Model]) {
        let Some(json) = self
            .read_session(Instant::now() + Duration::from_secs(60))
            .await
        else {
            self.tally
                .with(|t| t.corrupted.push("never readable again".into()));
            return;
        };
        match self.judge(&json, candidates) {
            Some(0) => self.tally.with(|t| t.ambiguous_not_applied += 1),
            Some(n) => {
                self.tally.with(|t| t.ambiguous_applied += 1);
                self.model = candidates[n].clone();
            }
            None => self.mismatch("a write answered 503", &json, &candidates[0]),
        }
    }

    /// Which candidate the session shown in `json` is, if any.
    fn judge(&self, json: &Value, candidates: &[Model]) -> Option<usize> {
        if json["status"] != "valid" {
            return None;
        }
        let seen = model_of(&json["state"]);
        candidates.iter().position(|c| *c == seen)
    }

    /// The session is not `expected` (what was acknowledged, or the least a write answered 503
    /// may have left): count how, and go on from what it is.
    fn mismatch(&mut self, what: &str, json: &Value, expected: &Model) {
        let seen = model_of(&json["state"]);
        self.tally.with(|t| {
            if json["status"] != "valid" {
                t.lost_sessions += 1;
            } else if seen.counter < expected.counter {
                t.lost_increments += (expected.counter - seen.counter) as u64;
            } else {
                t.corrupted.push(format!(
                    "after {what}: expected {expected:?}, found {seen:?}"
                ));
            }
        });
        self.model = seen;
    }
}

fn parse_2xx(status: u16, body: &str) -> Option<Value> {
    (200..300)
        .contains(&status)
        .then(|| serde_json::from_str(body).ok())
        .flatten()
}

fn json_field(body: &str, field: &str) -> Option<i64> {
    serde_json::from_str::<Value>(body).ok()?[field].as_i64()
}

/// The counter on the counter page: `<span id="counter">N</span>`.
fn page_counter(body: &str) -> Option<i64> {
    let at = body.find("id=\"counter\">")? + "id=\"counter\">".len();
    body[at..].split('<').next()?.trim().parse().ok()
}

fn cart_of_lines(lines: &Value) -> Cart {
    lines
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .filter_map(|l| {
                    Some((
                        l["product_id"].as_str()?.to_owned(),
                        l["quantity"].as_u64()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn model_of(state: &Value) -> Model {
    let cart = state["cart"]
        .as_object()
        .map(|cart| {
            cart.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                .collect()
        })
        .unwrap_or_default();
    Model {
        counter: state["counter"].as_i64().unwrap_or(0),
        cart,
    }
}

fn short(text: &str) -> String {
    text.chars().take(160).collect()
}
