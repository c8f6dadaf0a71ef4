//! The Cloud Map client: credentials and region from `aws-config`'s default
//! chain, rustls (ring) for TLS, an optional endpoint override.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_servicediscovery::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_servicediscovery::config::retry::RetryConfig;
use aws_sdk_servicediscovery::config::timeout::TimeoutConfig;
use aws_sdk_servicediscovery::config::{ConfigBag, Intercept, Region, RuntimeComponents};
use aws_sdk_servicediscovery::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::endpoint::EndpointPrefix;

/// Region used with an endpoint override when the default chain names none
/// (requests to an AWS-compatible server still have to be signed for one).
pub const FALLBACK_REGION: &str = "us-east-1";

/// A Cloud Map client configured from the environment, as the AWS CLI is:
/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, profiles, web identity
/// (EKS IRSA), the ECS task role, EC2 instance roles; `AWS_REGION` or the
/// profile's region. `endpoint_override` sends every call to another
/// AWS-API-compatible server (`--cloud-map-endpoint URL`); the `data-` host
/// prefix the SDK puts before `DiscoverInstances*` hosts is then left off.
///
/// The SDK does not retry (the source has its own backoff, and its call
/// counters then count requests); each call times out after 10 s.
pub async fn client_from_env(endpoint_override: Option<String>) -> Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let shared = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await;
    let mut builder = aws_sdk_servicediscovery::config::Builder::from(&shared)
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(10))
                .operation_timeout(Duration::from_secs(10))
                .build(),
        );
    if let Some(url) = endpoint_override {
        tracing::info!(endpoint = %url, "Cloud Map endpoint override");
        builder = builder.endpoint_url(url).interceptor(NoHostPrefix);
        if shared.region().is_none() {
            builder = builder.region(Region::from_static(FALLBACK_REGION));
        }
    } else if shared.region().is_none() {
        tracing::warn!(
            "no AWS region configured (AWS_REGION or a profile's region): Cloud Map calls will fail"
        );
    }
    Client::from_conf(builder.build())
}

/// Drops the endpoint prefix (`data-`) the SDK adds to the host of the
/// `DiscoverInstances` and `DiscoverInstancesRevision` calls, so they reach
/// the overriding server's own host. Only installed with an override.
#[derive(Debug)]
pub struct NoHostPrefix;

impl Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "meshplane::NoHostPrefix"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().unset::<EndpointPrefix>();
        Ok(())
    }
}
