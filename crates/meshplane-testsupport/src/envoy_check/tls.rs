//! SDS references over ADS, rewritten to name static secrets.

use envoy_types::pb::envoy::config::core::v3::config_source::ConfigSourceSpecifier;
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{
    common_tls_context::ValidationContextType, CommonTlsContext, DownstreamTlsContext,
    SdsSecretConfig, UpstreamTlsContext,
};
use envoy_types::pb::google::protobuf::Any;
use prost::{Message, Name};

use meshplane_envoy::XdsResources;

use super::error::{decode, BootstrapError};

/// If `any` is a TLS context, points its ADS-delivered secrets at the static ones.
pub(super) fn make_secrets_static(
    any: &mut Any,
    owner: &str,
    res: &XdsResources,
) -> Result<(), BootstrapError> {
    if any.type_url == UpstreamTlsContext::type_url() {
        let mut ctx: UpstreamTlsContext = decode(any, owner)?;
        if let Some(common) = ctx.common_tls_context.as_mut() {
            common_context(common, owner, res)?;
        }
        any.value = ctx.encode_to_vec();
    } else if any.type_url == DownstreamTlsContext::type_url() {
        let mut ctx: DownstreamTlsContext = decode(any, owner)?;
        if let Some(common) = ctx.common_tls_context.as_mut() {
            common_context(common, owner, res)?;
        }
        any.value = ctx.encode_to_vec();
    }
    Ok(())
}

fn common_context(
    ctx: &mut CommonTlsContext,
    owner: &str,
    res: &XdsResources,
) -> Result<(), BootstrapError> {
    for sds in &mut ctx.tls_certificate_sds_secret_configs {
        static_reference(sds, owner, res)?;
    }
    match ctx.validation_context_type.as_mut() {
        Some(ValidationContextType::ValidationContextSdsSecretConfig(sds)) => {
            static_reference(sds, owner, res)?;
        }
        Some(ValidationContextType::CombinedValidationContext(combined)) => {
            if let Some(sds) = combined.validation_context_sds_secret_config.as_mut() {
                static_reference(sds, owner, res)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A reference whose source is ADS must name a secret we were given; it then
/// loses its config source, which makes Envoy look in static_resources.secrets.
/// References to another SDS server (a local SPIRE agent, say) are left alone.
fn static_reference(
    sds: &mut SdsSecretConfig,
    owner: &str,
    res: &XdsResources,
) -> Result<(), BootstrapError> {
    let over_ads = matches!(
        sds.sds_config
            .as_ref()
            .and_then(|c| c.config_source_specifier.as_ref()),
        Some(ConfigSourceSpecifier::Ads(_))
    );
    if !over_ads {
        return Ok(());
    }
    if !res.secrets.iter().any(|s| s.name == sds.name) {
        return Err(BootstrapError::MissingSecret {
            owner: owner.to_owned(),
            secret: sds.name.clone(),
        });
    }
    sds.sds_config = None;
    Ok(())
}
