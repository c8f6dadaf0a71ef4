//! Deterministic JSON, printed as Envoy prints it.
//!
//! prost-reflect keeps map fields (and `Struct`, which is a map) in hash
//! maps, so their keys come out in a random order: [`sort_map_keys`] walks
//! the JSON beside the message descriptor and sorts the keys of every map,
//! leaving message fields in the order the serializer wrote them.
//! [`integral_doubles_as_integers`] prints `1.0` as `1`, as protobuf's C++
//! JSON printer (and so Envoy's `/config_dump`) does.

use prost_reflect::{Kind, MessageDescriptor};
use serde_json::Value;

use crate::descriptors;
use crate::type_url;

/// Sorts the keys of every protobuf map inside `v`, a JSON form of `desc`.
pub(crate) fn sort_map_keys(v: &mut Value, desc: &MessageDescriptor) {
    match desc.full_name() {
        "google.protobuf.Struct" | "google.protobuf.Value" | "google.protobuf.ListValue" => {
            sort_all(v)
        }
        "google.protobuf.Any" => any(v),
        name if name.starts_with("google.protobuf.") && !v.is_object() => {}
        _ => message(v, desc),
    }
}

fn message(v: &mut Value, desc: &MessageDescriptor) {
    let Value::Object(fields) = v else { return };
    for (key, value) in fields.iter_mut() {
        let Some(field) = desc
            .get_field_by_name(key)
            .or_else(|| desc.get_field_by_json_name(key))
        else {
            continue;
        };
        if field.is_map() {
            let Value::Object(entries) = value else {
                continue;
            };
            entries.sort_keys();
            if let Kind::Message(entry) = field.kind() {
                if let Kind::Message(value_desc) = entry.map_entry_value_field().kind() {
                    for item in entries.values_mut() {
                        sort_map_keys(item, &value_desc);
                    }
                }
            }
        } else if let Kind::Message(inner) = field.kind() {
            match value {
                Value::Array(items) => items.iter_mut().for_each(|i| sort_map_keys(i, &inner)),
                other => sort_map_keys(other, &inner),
            }
        }
    }
}

/// An `Any`: `@type` names the packed message, whose fields sit beside it
/// (or under `value` for well-known types with a scalar JSON form).
fn any(v: &mut Value) {
    let Some(name) = v
        .get("@type")
        .and_then(Value::as_str)
        .and_then(type_url::message_name)
        .map(str::to_owned)
    else {
        return;
    };
    let Ok(desc) = descriptors::message(&name) else {
        return;
    };
    if name.starts_with("google.protobuf.") {
        if let Some(inner) = v.get_mut("value") {
            sort_map_keys(inner, &desc);
        }
        return;
    }
    message(v, &desc);
}

fn sort_all(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(sort_all);
        }
        Value::Array(items) => items.iter_mut().for_each(sort_all),
        _ => {}
    }
}

/// Rewrites every floating-point number with no fractional part (and small
/// enough to be exact) as an integer. 64-bit integer fields are strings in
/// proto3 JSON, so only `double`/`float` values and `Struct` numbers change.
pub(crate) fn integral_doubles_as_integers(v: &mut Value) {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64() {
                if f.fract() == 0.0 && f.abs() <= EXACT {
                    // In range and integral: the cast is exact.
                    let i = f as i64;
                    *v = Value::from(i);
                }
            }
        }
        Value::Object(map) => map.values_mut().for_each(integral_doubles_as_integers),
        Value::Array(items) => items.iter_mut().for_each(integral_doubles_as_integers),
        _ => {}
    }
}
