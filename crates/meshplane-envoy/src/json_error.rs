//! Why an Envoy message could not be converted to or from proto3 JSON.

/// Why a message could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("the built-in Envoy descriptor set is unreadable: {0}")]
    DescriptorSet(String),
    #[error("message type `{0}` is not in meshplane's Envoy descriptor set (add its .proto to build.rs ROOTS)")]
    UnknownMessage(String),
    #[error("`{0}` is not a type URL of the form `type.googleapis.com/<message name>`")]
    BadTypeUrl(String),
    #[error("an Any in JSON must be an object with an \"@type\" string")]
    MissingAnyType,
    #[error("the protobuf bytes of `{message}` do not decode: {source}")]
    Decode {
        message: String,
        #[source]
        source: prost::DecodeError,
    },
    #[error("`{message}` could not be written as JSON: {source}")]
    Serialize {
        message: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("JSON is not a valid `{message}` at `{path}`: {source}")]
    Deserialize {
        message: String,
        path: String,
        #[source]
        source: serde_json::Error,
    },
}
