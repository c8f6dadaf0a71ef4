//! The CRD's field names that differ from the API's.

use crate::node::{Node, NodeKind};

/// `certificateARN` and `certificateAuthorityARNs` anywhere in a spec.
pub fn api_names(node: &mut Node) {
    match &mut node.kind {
        NodeKind::Map(entries) => {
            for e in entries {
                match e.key.as_str() {
                    "certificateARN" => e.key = "certificateArn".into(),
                    "certificateAuthorityARNs" => e.key = "certificateAuthorityArns".into(),
                    _ => {}
                }
                api_names(&mut e.value);
            }
        }
        NodeKind::Seq(items) => items.iter_mut().for_each(api_names),
        _ => {}
    }
}

/// Renames one key of a mapping, keeping the key as written for messages.
pub fn key(node: &mut Node, from: &str, to: &str) {
    if let NodeKind::Map(entries) = &mut node.kind {
        for e in entries.iter_mut().filter(|e| e.key == from) {
            e.key = to.to_owned();
        }
    }
}
