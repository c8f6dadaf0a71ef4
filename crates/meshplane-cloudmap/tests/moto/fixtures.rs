//! Cloud Map data created through the same SDK, and bounded waits.

use std::collections::BTreeMap;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use meshplane_cloudmap::{client_from_env, Client, CloudMapConfig, QueryStates};
use tokio::sync::watch;

static ENV: Once = Once::new();

/// The default credential chain reads these; every test calls this first,
/// before any task that reads the environment runs.
pub fn test_env() {
    ENV.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::remove_var("AWS_PROFILE");
        std::env::remove_var("AWS_SESSION_TOKEN");
    });
}

pub async fn client(url: &str) -> Client {
    test_env();
    client_from_env(Some(url.to_owned())).await
}

/// Short intervals for tests.
pub fn fast_config() -> CloudMapConfig {
    CloudMapConfig {
        interval: Duration::from_millis(200),
        jitter: 0.2,
        max_backoff: Duration::from_millis(800),
        full_refresh: None,
        ..CloudMapConfig::default()
    }
}

/// An HTTP namespace and its services.
pub struct Namespace {
    pub id: String,
    pub services: BTreeMap<String, String>,
}

pub async fn create_namespace(client: &Client, name: &str) -> Namespace {
    client
        .create_http_namespace()
        .name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateHttpNamespace {name}: {e:?}"));
    let list = client
        .list_namespaces()
        .send()
        .await
        .expect("ListNamespaces");
    let id = list
        .namespaces()
        .iter()
        .find(|n| n.name() == Some(name))
        .and_then(|n| n.id())
        .unwrap_or_else(|| panic!("namespace {name} not listed"))
        .to_owned();
    Namespace {
        id,
        services: BTreeMap::new(),
    }
}

impl Namespace {
    pub async fn create_service(&mut self, client: &Client, name: &str) -> String {
        let out = client
            .create_service()
            .name(name)
            .namespace_id(&self.id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateService {name}: {e:?}"));
        let id = out
            .service()
            .and_then(|s| s.id())
            .expect("service id")
            .to_owned();
        self.services.insert(name.to_owned(), id.clone());
        id
    }

    /// A service whose instances' health the test sets (custom health).
    pub async fn create_service_with_custom_health(&mut self, client: &Client, name: &str) {
        let out = client
            .create_service()
            .name(name)
            .namespace_id(&self.id)
            .health_check_custom_config(
                aws_sdk_servicediscovery::types::HealthCheckCustomConfig::builder().build(),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateService {name}: {e:?}"));
        let id = out
            .service()
            .and_then(|s| s.id())
            .expect("service id")
            .to_owned();
        self.services.insert(name.to_owned(), id);
    }

    pub async fn set_health(&self, client: &Client, service: &str, instance: &str, healthy: bool) {
        use aws_sdk_servicediscovery::types::CustomHealthStatus;
        client
            .update_instance_custom_health_status()
            .service_id(&self.services[service])
            .instance_id(instance)
            .status(if healthy {
                CustomHealthStatus::Healthy
            } else {
                CustomHealthStatus::Unhealthy
            })
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!("UpdateInstanceCustomHealthStatus {service}/{instance}: {e:?}")
            });
    }

    pub async fn register(
        &self,
        client: &Client,
        service: &str,
        instance: &str,
        attributes: &[(&str, &str)],
    ) {
        let mut req = client
            .register_instance()
            .service_id(&self.services[service])
            .instance_id(instance);
        for (k, v) in attributes {
            req = req.attributes(*k, *v);
        }
        req.send()
            .await
            .unwrap_or_else(|e| panic!("RegisterInstance {service}/{instance}: {e:?}"));
    }

    pub async fn deregister(&self, client: &Client, service: &str, instance: &str) {
        client
            .deregister_instance()
            .service_id(&self.services[service])
            .instance_id(instance)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DeregisterInstance {service}/{instance}: {e:?}"));
    }
}

/// Wait (at most `limit`) until `pred` holds for the published states;
/// panics with `what` and the last states otherwise. Returns the time taken.
pub async fn wait_states(
    rx: &mut watch::Receiver<Arc<QueryStates>>,
    limit: Duration,
    what: &str,
    pred: impl Fn(&QueryStates) -> bool,
) -> Duration {
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let now = rx.borrow_and_update().clone();
        if pred(&now) {
            return start.elapsed();
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => panic!("{what}: the source stopped"),
            Err(_) => panic!("{what}: not within {limit:?}; states: {now:#?}"),
        }
    }
}

/// Wait (at most `limit`) until `pred` holds, checking every 20 ms.
pub async fn wait_until(limit: Duration, what: &str, mut pred: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !pred() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}
