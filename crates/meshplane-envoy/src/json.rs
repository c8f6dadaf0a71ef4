//! Proto3 JSON for Envoy messages, printed the way Envoy's `/config_dump`
//! prints them: proto field names (snake_case), default fields left out,
//! `Any` written as an object with `@type` and the packed message's fields.

use envoy_types::pb::google::protobuf::Any;
use prost::{Message, Name};
use prost_reflect::{
    DeserializeOptions, DynamicMessage, MessageDescriptor, ReflectMessage, SerializeOptions,
};

use crate::descriptors;
use crate::type_url;

mod canonical;

pub use crate::json_error::JsonError;

fn serialize_options() -> SerializeOptions {
    SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(true)
}

fn deserialize_options() -> DeserializeOptions {
    DeserializeOptions::new().deny_unknown_fields(true)
}

fn dynamic_to_json(dynamic: &DynamicMessage) -> Result<serde_json::Value, JsonError> {
    let mut v = dynamic
        .serialize_with_options(serde_json::value::Serializer, &serialize_options())
        .map_err(|source| JsonError::Serialize {
            message: dynamic.descriptor().full_name().to_owned(),
            source,
        })?;
    canonical::sort_map_keys(&mut v, &dynamic.descriptor());
    canonical::integral_doubles_as_integers(&mut v);
    Ok(v)
}

fn bytes_to_json(desc: MessageDescriptor, bytes: &[u8]) -> Result<serde_json::Value, JsonError> {
    let dynamic =
        DynamicMessage::decode(desc.clone(), bytes).map_err(|source| JsonError::Decode {
            message: desc.full_name().to_owned(),
            source,
        })?;
    dynamic_to_json(&dynamic)
}

fn json_to_bytes(desc: MessageDescriptor, v: &serde_json::Value) -> Result<Vec<u8>, JsonError> {
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(v, &mut track);
    let dynamic =
        DynamicMessage::deserialize_with_options(desc.clone(), de, &deserialize_options())
            .map_err(|source| JsonError::Deserialize {
                message: desc.full_name().to_owned(),
                path: track.path().to_string(),
                source,
            })?;
    Ok(dynamic.encode_to_vec())
}

/// Proto3 JSON of `msg`.
pub fn to_json<M: Message + Name>(msg: &M) -> Result<serde_json::Value, JsonError> {
    let desc = descriptors::message(&M::full_name())?;
    bytes_to_json(desc, &msg.encode_to_vec())
}

/// Parses proto3 JSON (as [`to_json`] writes it; camelCase names are accepted too).
pub fn from_json<M: Default + Message + Name>(v: &serde_json::Value) -> Result<M, JsonError> {
    let full_name = M::full_name();
    let desc = descriptors::message(&full_name)?;
    let bytes = json_to_bytes(desc, v)?;
    M::decode(bytes.as_slice()).map_err(|source| JsonError::Decode {
        message: full_name,
        source,
    })
}

/// JSON of the message packed in `any`: an object whose `@type` is the type URL.
pub fn any_to_json(any: &Any) -> Result<serde_json::Value, JsonError> {
    let name = type_url::message_name(&any.type_url)
        .ok_or_else(|| JsonError::BadTypeUrl(any.type_url.clone()))?;
    // Fail with a typed error before serde meets an unknown type.
    descriptors::message(name)?;
    let any_desc = descriptors::message("google.protobuf.Any")?;
    bytes_to_json(any_desc, &any.encode_to_vec())
}

/// Packs the message described by a JSON object with `@type` into an [`Any`].
pub fn any_from_json(v: &serde_json::Value) -> Result<Any, JsonError> {
    let type_url = v
        .get("@type")
        .and_then(serde_json::Value::as_str)
        .ok_or(JsonError::MissingAnyType)?;
    let name = type_url::message_name(type_url)
        .ok_or_else(|| JsonError::BadTypeUrl(type_url.to_owned()))?;
    let desc = descriptors::message(name)?;
    // Parse as google.protobuf.Any so well-known types and nested Anys follow
    // the proto3 rules, then check the packed bytes are that message.
    let any_desc = descriptors::message("google.protobuf.Any")?;
    let bytes = json_to_bytes(any_desc, v)?;
    let any = Any::decode(bytes.as_slice()).map_err(|source| JsonError::Decode {
        message: "google.protobuf.Any".to_owned(),
        source,
    })?;
    DynamicMessage::decode(desc, any.value.as_slice()).map_err(|source| JsonError::Decode {
        message: name.to_owned(),
        source,
    })?;
    Ok(any)
}
