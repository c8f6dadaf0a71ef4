//! The node's `logging.accessLog.file` as Envoy file access loggers.

use envoy_types::pb::envoy::config::accesslog::v3::{access_log, AccessLog};
use envoy_types::pb::envoy::config::core::v3::{
    data_source, substitution_format_string, DataSource, SubstitutionFormatString,
};
use envoy_types::pb::envoy::extensions::access_loggers::file::v3::{
    file_access_log, FileAccessLog,
};
use envoy_types::pb::google::protobuf::{value, Struct, Value};
use meshplane_spec::common::Logging;

use crate::proto::any;

pub const FILE_ACCESS_LOGGER: &str = "envoy.access_loggers.file";

/// The access loggers every connection manager and TCP proxy of the node
/// carries: none without `logging.accessLog.file`; Envoy's default format
/// without `format`; `format.text` as a text format (a newline is appended
/// when missing, so records stay one per line); `format.json` as a JSON
/// format of the given keys (later duplicates of a key win, as in a JSON object).
pub fn access_logs(logging: Option<&Logging>) -> Vec<AccessLog> {
    let Some(file) = logging
        .and_then(|l| l.access_log.as_ref())
        .and_then(|a| a.file.as_ref())
    else {
        return Vec::new();
    };
    let log_format = file.format.as_ref().and_then(|f| {
        let format = if let Some(text) = &f.text {
            let text = if text.ends_with('\n') {
                text.clone()
            } else {
                format!("{text}\n")
            };
            substitution_format_string::Format::TextFormatSource(DataSource {
                specifier: Some(data_source::Specifier::InlineString(text)),
                ..Default::default()
            })
        } else if let Some(pairs) = &f.json {
            let fields = pairs
                .iter()
                .map(|p| {
                    (
                        p.key.clone(),
                        Value {
                            kind: Some(value::Kind::StringValue(p.value.clone())),
                        },
                    )
                })
                .collect();
            substitution_format_string::Format::JsonFormat(Struct { fields })
        } else {
            return None;
        };
        Some(SubstitutionFormatString {
            format: Some(format),
            ..Default::default()
        })
    });
    let config = FileAccessLog {
        path: file.path.clone(),
        access_log_format: log_format.map(file_access_log::AccessLogFormat::LogFormat),
    };
    vec![AccessLog {
        name: FILE_ACCESS_LOGGER.to_owned(),
        filter: None,
        config_type: Some(access_log::ConfigType::TypedConfig(any(&config))),
    }]
}
