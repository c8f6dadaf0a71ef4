//! `RouteSpec`: the routes of a virtual router.

use serde::{Deserialize, Serialize};

use crate::common::{
    Duration, HeaderMatch, HttpMethod, HttpPathMatch, HttpQueryParameter, HttpScheme, HttpTimeout,
    Protocol, TcpTimeout,
};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_route: Option<GrpcRoute>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http2_route: Option<HttpRoute>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_route: Option<HttpRoute>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_route: Option<TcpRoute>,
}

impl RouteSpec {
    /// The protocol of the (first) route kind that is set, in API order.
    pub fn protocol(&self) -> Option<Protocol> {
        if self.http_route.is_some() {
            Some(Protocol::Http)
        } else if self.http2_route.is_some() {
            Some(Protocol::Http2)
        } else if self.grpc_route.is_some() {
            Some(Protocol::Grpc)
        } else if self.tcp_route.is_some() {
            Some(Protocol::Tcp)
        } else {
            None
        }
    }

    /// The weighted targets of whichever route kind is set.
    pub fn weighted_targets(&self) -> &[WeightedTarget] {
        if let Some(r) = self.http_route.as_ref().or(self.http2_route.as_ref()) {
            &r.action.weighted_targets
        } else if let Some(r) = &self.grpc_route {
            &r.action.weighted_targets
        } else if let Some(r) = &self.tcp_route {
            &r.action.weighted_targets
        } else {
            &[]
        }
    }

    /// The listener port the route's match names, if any.
    pub fn match_port(&self) -> Option<i64> {
        if let Some(r) = self.http_route.as_ref().or(self.http2_route.as_ref()) {
            r.match_.port
        } else if let Some(r) = &self.grpc_route {
            r.match_.port
        } else if let Some(r) = &self.tcp_route {
            r.match_.as_ref().and_then(|m| m.port)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeightedTarget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    pub virtual_node: String,
    pub weight: i64,
}

/// `HttpRouteAction`, `GrpcRouteAction`, `TcpRouteAction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteAction {
    pub weighted_targets: Vec<WeightedTarget>,
}

/// `HttpRoute` (used for both `httpRoute` and `http2Route`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpRoute {
    pub action: RouteAction,
    #[serde(rename = "match")]
    pub match_: HttpRouteMatch,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<HttpRetryPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HttpTimeout>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpRouteMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<HeaderMatch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<HttpPathMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_parameters: Option<Vec<HttpQueryParameter>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<HttpScheme>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpRetryPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_retry_events: Option<Vec<String>>,
    pub max_retries: i64,
    pub per_retry_timeout: Duration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_retry_events: Option<Vec<TcpRetryEvent>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TcpRetryEvent {
    #[serde(rename = "connection-error")]
    ConnectionError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrpcRoute {
    pub action: RouteAction,
    #[serde(rename = "match")]
    pub match_: GrpcRouteMatch,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<GrpcRetryPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HttpTimeout>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrpcRouteMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Vec<HeaderMatch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrpcRetryPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_retry_events: Option<Vec<GrpcRetryEvent>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_retry_events: Option<Vec<String>>,
    pub max_retries: i64,
    pub per_retry_timeout: Duration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_retry_events: Option<Vec<TcpRetryEvent>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrpcRetryEvent {
    Cancelled,
    DeadlineExceeded,
    Internal,
    ResourceExhausted,
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TcpRoute {
    pub action: RouteAction,
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_: Option<TcpRouteMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<TcpTimeout>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TcpRouteMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
}
