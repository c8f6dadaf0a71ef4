//! The two Cloud Map calls the source makes, with their errors sorted into
//! what the poller acts on (throttling, an unsupported operation, the rest).

use std::collections::BTreeMap;

use aws_sdk_servicediscovery::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_servicediscovery::types::HealthStatusFilter;
use aws_sdk_servicediscovery::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::query::{DiscoveredInstance, QueryKey};

/// What kind of failure a call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallErrorKind {
    /// Cloud Map asked us to slow down (throttling error code or HTTP 429).
    Throttled,
    /// The server does not implement the operation (some AWS-compatible
    /// servers lack `DiscoverInstancesRevision`).
    Unsupported,
    /// Anything else: network, credentials, unknown namespace or service...
    Other,
}

/// A failed Cloud Map call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct CallError {
    pub operation: &'static str,
    pub kind: CallErrorKind,
    pub message: String,
}

const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
];
const UNSUPPORTED_CODES: &[&str] = &[
    "UnknownOperationException",
    "UnknownOperation",
    "InvalidAction",
    "NotImplemented",
    "NotImplementedException",
    "UnsupportedOperation",
    "UnsupportedOperationException",
];

/// Sort an error by its code and HTTP status.
pub fn classify(code: Option<&str>, status: Option<u16>) -> CallErrorKind {
    if code.is_some_and(|c| THROTTLING_CODES.contains(&c)) || status == Some(429) {
        CallErrorKind::Throttled
    } else if code.is_some_and(|c| UNSUPPORTED_CODES.contains(&c))
        || (code.is_none() && matches!(status, Some(404 | 501)))
        || status == Some(501)
    {
        CallErrorKind::Unsupported
    } else {
        CallErrorKind::Other
    }
}

fn call_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, status) = match &err {
        SdkError::ServiceError(se) => (
            se.err().code().map(str::to_owned),
            Some(se.raw().status().as_u16()),
        ),
        SdkError::ResponseError(re) => (None, Some(re.raw().status().as_u16())),
        _ => (None, None),
    };
    CallError {
        operation,
        kind: classify(code.as_deref(), status),
        message: DisplayErrorContext(&err).to_string(),
    }
}

/// `DiscoverInstancesRevision` of one service.
pub async fn revision(client: &Client, namespace: &str, service: &str) -> Result<i64, CallError> {
    const OP: &str = "DiscoverInstancesRevision";
    let out = client
        .discover_instances_revision()
        .namespace_name(namespace)
        .service_name(service)
        .send()
        .await
        .map_err(|e| call_error(OP, e))?;
    out.instances_revision().ok_or_else(|| CallError {
        operation: OP,
        kind: CallErrorKind::Other,
        message: "the answer has no InstancesRevision".to_owned(),
    })
}

/// The answer to one `DiscoverInstances` call.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    /// Healthy instances matching the key's attributes, sorted by id.
    pub instances: Vec<DiscoveredInstance>,
    pub revision: Option<i64>,
}

/// `DiscoverInstances` for one key: healthy instances only (Cloud Map
/// counts instances of a service without health checks as healthy).
pub async fn discover(
    client: &Client,
    key: &QueryKey,
    max_results: i32,
) -> Result<Discovery, CallError> {
    const OP: &str = "DiscoverInstances";
    let mut req = client
        .discover_instances()
        .namespace_name(&key.namespace)
        .service_name(&key.service)
        .health_status(HealthStatusFilter::Healthy)
        .max_results(max_results);
    for (k, v) in &key.attributes {
        req = req.query_parameters(k, v);
    }
    let out = req.send().await.map_err(|e| call_error(OP, e))?;
    let mut instances: Vec<DiscoveredInstance> = out
        .instances()
        .iter()
        .filter_map(|i| {
            let id = i.instance_id()?;
            let attributes: BTreeMap<String, String> = i
                .attributes()
                .map(|a| a.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            Some(DiscoveredInstance::from_attributes(id, attributes))
        })
        .collect();
    instances.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    instances.dedup_by(|a, b| a.instance_id == b.instance_id);
    Ok(Discovery {
        instances,
        revision: out.instances_revision(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_sorted_by_code_and_status() {
        assert_eq!(
            classify(Some("ThrottlingException"), Some(400)),
            CallErrorKind::Throttled
        );
        assert_eq!(
            classify(Some("RequestLimitExceeded"), None),
            CallErrorKind::Throttled
        );
        assert_eq!(classify(None, Some(429)), CallErrorKind::Throttled);
        assert_eq!(
            classify(Some("UnknownOperationException"), Some(400)),
            CallErrorKind::Unsupported
        );
        assert_eq!(classify(None, Some(404)), CallErrorKind::Unsupported);
        assert_eq!(classify(None, Some(501)), CallErrorKind::Unsupported);
        assert_eq!(
            classify(Some("ServiceNotFound"), Some(404)),
            CallErrorKind::Other
        );
        assert_eq!(
            classify(Some("NamespaceNotFound"), Some(400)),
            CallErrorKind::Other
        );
        assert_eq!(classify(None, Some(500)), CallErrorKind::Other);
        assert_eq!(classify(None, None), CallErrorKind::Other);
    }
}
