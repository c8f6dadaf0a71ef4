//! Small constructors for protobuf well-known types and shared Envoy pieces.

use envoy_types::pb::envoy::config::core::v3::Address;
use envoy_types::pb::envoy::config::core::v3::{
    address, config_source, socket_address, AggregatedConfigSource, ApiVersion, ConfigSource,
    SocketAddress,
};
use envoy_types::pb::google::protobuf::{Any, Duration, UInt32Value};
use prost::{Message, Name};

/// Packs a message into `Any` with its `type.googleapis.com/...` URL.
pub fn any<M: Message + Name>(msg: &M) -> Any {
    Any {
        type_url: M::type_url(),
        value: msg.encode_to_vec(),
    }
}

/// A duration from milliseconds; negative values are clamped to zero.
pub fn millis(ms: i64) -> Duration {
    let ms = ms.max(0);
    Duration {
        seconds: ms / 1000,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    }
}

pub fn u32_value(v: u32) -> UInt32Value {
    UInt32Value { value: v }
}

/// Clamps an API integer into `u32` (validation reports out-of-range values).
pub fn clamp_u32(v: i64) -> u32 {
    v.clamp(0, i64::from(u32::MAX)) as u32
}

/// RDS/EDS over the ADS stream, v3 (as App Mesh configured it).
pub fn ads_config_source() -> ConfigSource {
    ConfigSource {
        resource_api_version: ApiVersion::V3 as i32,
        config_source_specifier: Some(config_source::ConfigSourceSpecifier::Ads(
            AggregatedConfigSource {},
        )),
        ..Default::default()
    }
}

pub fn socket_address(host: &str, port: u32) -> Address {
    Address {
        address: Some(address::Address::SocketAddress(SocketAddress {
            address: host.to_owned(),
            port_specifier: Some(socket_address::PortSpecifier::PortValue(port)),
            ..Default::default()
        })),
    }
}

/// A listening address; `ipv4_compat` lets an IPv6 socket accept IPv4 too.
pub fn listen_address(host: &str, port: u32, ipv4_compat: bool) -> Address {
    Address {
        address: Some(address::Address::SocketAddress(SocketAddress {
            address: host.to_owned(),
            port_specifier: Some(socket_address::PortSpecifier::PortValue(port)),
            ipv4_compat,
            ..Default::default()
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_split_into_seconds_and_nanos() {
        assert_eq!(
            millis(250),
            Duration {
                seconds: 0,
                nanos: 250_000_000
            }
        );
        assert_eq!(
            millis(15_000),
            Duration {
                seconds: 15,
                nanos: 0
            }
        );
        assert_eq!(
            millis(-5),
            Duration {
                seconds: 0,
                nanos: 0
            }
        );
        assert_eq!(clamp_u32(-1), 0);
        assert_eq!(clamp_u32(i64::MAX), u32::MAX);
    }
}
