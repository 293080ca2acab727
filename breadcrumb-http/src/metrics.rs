//! Request counters and latency sums by route and status, in Prometheus' text format.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// (method, route, status) to (count, seconds).
type Counters = BTreeMap<(String, String, u16), (u64, f64)>;

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<Counters>,
}

impl Metrics {
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# HELP breadcrumb_http_requests_total HTTP requests by route and status.\n# TYPE breadcrumb_http_requests_total counter\n",
        );
        let map = self.requests.lock().map(|m| m.clone()).unwrap_or_default();
        for ((method, route, status), (n, _)) in &map {
            out.push_str(&format!("breadcrumb_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}\n"));
        }
        out.push_str("# HELP breadcrumb_http_request_seconds_sum Total time spent answering, by route.\n# TYPE breadcrumb_http_request_seconds_sum counter\n");
        for ((method, route, status), (_, secs)) in &map {
            out.push_str(&format!("breadcrumb_http_request_seconds_sum{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {secs:.6}\n"));
        }
        out
    }
}

pub async fn track(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    if let Ok(mut m) = s.metrics.requests.lock() {
        let e = m
            .entry((method, route, resp.status().as_u16()))
            .or_default();
        e.0 += 1;
        e.1 += start.elapsed().as_secs_f64();
    }
    resp
}
