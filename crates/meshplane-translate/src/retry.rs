//! App Mesh retry policies as Envoy route retry policies.
//!
//! | App Mesh event                | Envoy `retry_on`           | `retriable_status_codes` |
//! |-------------------------------|----------------------------|--------------------------|
//! | http `server-error`           | `reset`, `retriable-status-codes` | 500 501 502 503 504 505 506 507 508 510 511 |
//! | http `gateway-error`          | `reset`, `retriable-status-codes` | 502 503 504      |
//! | http `client-error`           | `retriable-status-codes`   | 409                      |
//! | http `stream-error`           | `refused-stream`           |                          |
//! | tcp `connection-error`        | `connect-failure`          |                          |
//! | grpc `cancelled`, `deadline-exceeded`, `internal`, `resource-exhausted`, `unavailable` | the same names | |
//!
//! (API reference: "Both server-error and gateway-error include the Envoy
//! `reset` policy"; the observed dump shows `reset,refused-stream,
//! retriable-status-codes` with codes `[502, 503, 504, 409]` for
//! gateway-error + client-error + stream-error.) Tokens are emitted in the
//! order of this table, codes in table order without duplicates. Every
//! policy carries `retry_host_predicate previous_hosts` and
//! `host_selection_retry_max_attempts: 5`, as observed.
//!
//! The default policy (user guide, "Default route retry policy"), used for
//! every HTTP, HTTP/2 and gRPC route without a retry policy of its own
//! (virtual-node providers included) unless turned off: 2 retries on
//! gRPC `unavailable`, HTTP 503, `connect-failure`, `refused-stream` and
//! `reset`. It is one policy whatever the route's protocol: a gRPC
//! upstream can answer HTTP 503 and an HTTP one can carry `grpc-status`.
//! It has no per-try timeout, so a request that gets no answer at all
//! waits for the route timeout, which is never retried; DNS clusters abort
//! such a connection sooner (`dns_cluster.rs`, `TCP_USER_TIMEOUT`), turning
//! it into a `reset` this policy retries.

use envoy_types::pb::envoy::config::route::v3::{retry_policy, RetryPolicy};
use envoy_types::pb::envoy::extensions::retry::host::previous_hosts::v3::PreviousHostsPredicate;
use meshplane_spec::common::Duration;
use meshplane_spec::route::{GrpcRetryEvent, GrpcRetryPolicy, HttpRetryPolicy, TcpRetryEvent};

use crate::proto::{any, clamp_u32, millis, u32_value};

pub const PREVIOUS_HOSTS: &str = "envoy.retry_host_predicates.previous_hosts";
pub const HOST_SELECTION_RETRY_MAX_ATTEMPTS: i64 = 5;
pub const DEFAULT_NUM_RETRIES: u32 = 2;

const SERVER_ERROR_CODES: [u32; 11] = [500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511];
const GATEWAY_ERROR_CODES: [u32; 3] = [502, 503, 504];
const CLIENT_ERROR_CODES: [u32; 1] = [409];

/// The members of an App Mesh HTTP or gRPC retry policy.
pub struct Events<'a> {
    pub http: &'a [String],
    pub tcp: &'a [TcpRetryEvent],
    pub grpc: &'a [GrpcRetryEvent],
    pub max_retries: i64,
    pub per_retry_timeout: &'a Duration,
}

impl<'a> From<&'a HttpRetryPolicy> for Events<'a> {
    fn from(p: &'a HttpRetryPolicy) -> Self {
        Events {
            http: p.http_retry_events.as_deref().unwrap_or(&[]),
            tcp: p.tcp_retry_events.as_deref().unwrap_or(&[]),
            grpc: &[],
            max_retries: p.max_retries,
            per_retry_timeout: &p.per_retry_timeout,
        }
    }
}

impl<'a> From<&'a GrpcRetryPolicy> for Events<'a> {
    fn from(p: &'a GrpcRetryPolicy) -> Self {
        Events {
            http: p.http_retry_events.as_deref().unwrap_or(&[]),
            tcp: p.tcp_retry_events.as_deref().unwrap_or(&[]),
            grpc: p.grpc_retry_events.as_deref().unwrap_or(&[]),
            max_retries: p.max_retries,
            per_retry_timeout: &p.per_retry_timeout,
        }
    }
}

/// An explicit policy. Returns the policy and the HTTP events it did not
/// recognise (reported by the caller).
pub fn explicit(e: Events<'_>) -> (RetryPolicy, Vec<String>) {
    let Events {
        http: http_events,
        tcp: tcp_events,
        grpc: grpc_events,
        max_retries,
        per_retry_timeout,
    } = e;
    let has = |e: &str| http_events.iter().any(|h| h == e);
    let unknown: Vec<String> = http_events
        .iter()
        .filter(|e| {
            !matches!(
                e.as_str(),
                "server-error" | "gateway-error" | "client-error" | "stream-error"
            )
        })
        .cloned()
        .collect();
    let mut codes: Vec<u32> = Vec::new();
    for (event, list) in [
        ("server-error", &SERVER_ERROR_CODES[..]),
        ("gateway-error", &GATEWAY_ERROR_CODES[..]),
        ("client-error", &CLIENT_ERROR_CODES[..]),
    ] {
        if has(event) {
            for c in list {
                if !codes.contains(c) {
                    codes.push(*c);
                }
            }
        }
    }
    let mut on: Vec<&str> = Vec::new();
    if has("server-error") || has("gateway-error") {
        on.push("reset");
    }
    if tcp_events.contains(&TcpRetryEvent::ConnectionError) {
        on.push("connect-failure");
    }
    if has("stream-error") {
        on.push("refused-stream");
    }
    if !codes.is_empty() {
        on.push("retriable-status-codes");
    }
    for (event, token) in [
        (GrpcRetryEvent::Cancelled, "cancelled"),
        (GrpcRetryEvent::DeadlineExceeded, "deadline-exceeded"),
        (GrpcRetryEvent::Internal, "internal"),
        (GrpcRetryEvent::ResourceExhausted, "resource-exhausted"),
        (GrpcRetryEvent::Unavailable, "unavailable"),
    ] {
        if grpc_events.contains(&event) {
            on.push(token);
        }
    }
    let policy = RetryPolicy {
        retry_on: on.join(","),
        num_retries: Some(u32_value(clamp_u32(max_retries))),
        per_try_timeout: Some(millis(per_retry_timeout.as_millis())),
        retriable_status_codes: codes,
        ..common()
    };
    (policy, unknown)
}

/// App Mesh's default retry policy.
pub fn default_policy() -> RetryPolicy {
    RetryPolicy {
        retry_on: "reset,connect-failure,refused-stream,retriable-status-codes,unavailable"
            .to_owned(),
        num_retries: Some(u32_value(DEFAULT_NUM_RETRIES)),
        retriable_status_codes: vec![503],
        ..common()
    }
}

fn common() -> RetryPolicy {
    RetryPolicy {
        retry_host_predicate: vec![retry_policy::RetryHostPredicate {
            name: PREVIOUS_HOSTS.to_owned(),
            config_type: Some(retry_policy::retry_host_predicate::ConfigType::TypedConfig(
                any(&PreviousHostsPredicate::default()),
            )),
        }],
        host_selection_retry_max_attempts: HOST_SELECTION_RETRY_MAX_ATTEMPTS,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshplane_spec::common::DurationUnit;

    #[test]
    fn observed_mapping_of_gateway_client_and_stream_errors() {
        let events: Vec<String> = ["gateway-error", "client-error", "stream-error"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let timeout = Duration {
            unit: Some(DurationUnit::S),
            value: Some(5),
        };
        let (p, unknown) = explicit(Events {
            http: &events,
            tcp: &[],
            grpc: &[],
            max_retries: 1,
            per_retry_timeout: &timeout,
        });
        assert!(unknown.is_empty());
        assert_eq!(p.retry_on, "reset,refused-stream,retriable-status-codes");
        assert_eq!(p.retriable_status_codes, vec![502, 503, 504, 409]);
        assert_eq!(p.per_try_timeout, Some(millis(5000)));
        assert_eq!(p.host_selection_retry_max_attempts, 5);
    }

    #[test]
    fn unknown_http_events_are_returned() {
        let (p, unknown) = explicit(Events {
            http: &["teapot".to_string()],
            tcp: &[TcpRetryEvent::ConnectionError],
            grpc: &[GrpcRetryEvent::Unavailable],
            max_retries: 3,
            per_retry_timeout: &Duration::default(),
        });
        assert_eq!(unknown, vec!["teapot".to_string()]);
        assert_eq!(p.retry_on, "connect-failure,unavailable");
    }
}
