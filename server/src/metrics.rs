//! Prometheus metrics, served at `/metrics` in the text exposition format.
//!
//! Counters and histograms are updated where things happen (the HTTP layer, the GitLab
//! client, the index budget); gauges that describe state (indexes, their bytes, sessions,
//! cache bytes) are read from the state when the endpoint is scraped.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// The route template (`/api/v1/{instance}/repositories/{id}/tags`), never the raw path.
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GitLabLabels {
    /// What was asked: `graphql`, `project`, `tag_names`, `delete_tag`, …
    pub kind: &'static str,
    /// `ok`, `unauthorized`, `forbidden`, `not_found`, `rate_limited`, `server_error`,
    /// `client_error`, `timeout`, `unreachable`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: &'static str,
}

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram>,
    pub http_shed: Counter,
    pub gitlab_requests: Family<GitLabLabels, Counter>,
    pub gitlab_duration: Family<KindLabels, Histogram>,
    pub budget_waits: Counter,
    pub budget_wait_seconds: Counter<f64>,
    pub tag_indexes: Gauge,
    pub tag_index_bytes: Gauge,
    pub cache_bytes: Gauge,
    pub sessions: Gauge,
    pub audit_events: Family<KindLabels, Counter>,
    pub panics: Counter,
}

fn latency_histogram() -> Histogram {
    // 1 ms … 32 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("registry_dash");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration =
            Family::<RouteLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        let http_shed = Counter::default();
        let gitlab_requests = Family::<GitLabLabels, Counter>::default();
        let gitlab_duration =
            Family::<KindLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        let budget_waits = Counter::default();
        let budget_wait_seconds = Counter::<f64>::default();
        let tag_indexes = Gauge::default();
        let tag_index_bytes = Gauge::default();
        let cache_bytes = Gauge::default();
        let sessions = Gauge::default();
        let audit_events = Family::<KindLabels, Counter>::default();
        let panics = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            http_duration.clone(),
        );
        registry.register(
            "http_requests_shed",
            "Requests answered 503 at once because too many were in flight",
            http_shed.clone(),
        );
        registry.register(
            "gitlab_requests",
            "Requests sent to GitLab, by kind and outcome (rate_limited is a 429, server_error a \
                5xx)",
            gitlab_requests.clone(),
        );
        registry.register(
            "gitlab_request_duration_seconds",
            "Time GitLab took to answer, by kind",
            gitlab_duration.clone(),
        );
        registry.register(
            "budget_waits",
            "GitLab requests that waited for their user's budget (rate or concurrency)",
            budget_waits.clone(),
        );
        registry.register(
            "budget_wait_seconds",
            "Total time GitLab requests waited for their user's budget",
            budget_wait_seconds.clone(),
        );
        registry.register("tag_indexes", "Tag indexes in memory", tag_indexes.clone());
        registry.register(
            "tag_index_bytes",
            "Estimated bytes held by tag indexes, including rebuilds",
            tag_index_bytes.clone(),
        );
        registry.register(
            "cache_bytes",
            "Estimated bytes held by the caches in front of GitLab",
            cache_bytes.clone(),
        );
        registry.register(
            "sessions",
            "Sessions in the session store",
            sessions.clone(),
        );
        registry.register(
            "audit_events",
            "Destructive actions requested, by kind",
            audit_events.clone(),
        );
        registry.register(
            "panics",
            "Requests whose handler panicked (answered 500)",
            panics.clone(),
        );
        Metrics {
            registry,
            http_requests,
            http_duration,
            http_shed,
            gitlab_requests,
            gitlab_duration,
            budget_waits,
            budget_wait_seconds,
            tag_indexes,
            tag_index_bytes,
            cache_bytes,
            sessions,
            audit_events,
            panics,
        }
    }

    /// One GitLab request's outcome and duration.
    pub fn gitlab(&self, kind: &'static str, outcome: &'static str, elapsed: Duration) {
        self.gitlab_requests
            .get_or_create(&GitLabLabels { kind, outcome })
            .inc();
        self.gitlab_duration
            .get_or_create(&KindLabels { kind })
            .observe(elapsed.as_secs_f64());
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// A gauge value from a count or byte size.
pub fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
