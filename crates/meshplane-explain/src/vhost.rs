//! Virtual host selection by the request's Host, as Envoy does it: an exact
//! domain first, then suffix wildcards (`*.example.com`, longest first), then
//! prefix wildcards (`example.*`, longest first), then `*`. The Host is
//! compared as sent, port included; domains are case-insensitive.

use serde_json::Value;

use crate::listener::Miss;

/// The index of the virtual host for `host` and the hosts that were not it.
pub fn select(route_config: &Value, host: &str) -> (Option<usize>, Vec<Miss>) {
    let vhosts = route_config["virtual_hosts"]
        .as_array()
        .map_or(&[][..], |v| v);
    let host = host.to_ascii_lowercase();
    // (rank, specificity): exact 3, suffix 2, prefix 1, any 0.
    let mut best: Option<((u8, usize), usize)> = None;
    for (i, vh) in vhosts.iter().enumerate() {
        for d in domains(vh) {
            let d = d.to_ascii_lowercase();
            let fit = if d == host {
                Some((3, d.len()))
            } else if d == "*" {
                Some((0, 0))
            } else if let Some(suffix) = d.strip_prefix('*') {
                (host.len() > suffix.len() && host.ends_with(suffix)).then_some((2, suffix.len()))
            } else if let Some(prefix) = d.strip_suffix('*') {
                (host.len() > prefix.len() && host.starts_with(prefix)).then_some((1, prefix.len()))
            } else {
                None
            };
            if let Some(f) = fit {
                // The first virtual host wins a tie (Envoy refuses duplicates).
                if best.is_none_or(|(b, _)| f > b) {
                    best = Some((f, i));
                }
            }
        }
    }
    let chosen = best.map(|(_, i)| i);
    let misses = if chosen.is_none() {
        vhosts
            .iter()
            .map(|vh| Miss {
                candidate: format!("virtual host {}", vh["name"].as_str().unwrap_or("")),
                reason: format!(
                    "Host '{host}' is not among its domains {}",
                    domains(vh).join(", ")
                ),
            })
            .collect()
    } else {
        Vec::new()
    };
    (chosen, misses)
}

pub fn domains(vh: &Value) -> Vec<&str> {
    vh["domains"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rc() -> Value {
        json!({"virtual_hosts": [
            {"name": "any", "domains": ["*"]},
            {"name": "prefix", "domains": ["api.*"]},
            {"name": "suffix", "domains": ["*.example.com"]},
            {"name": "exact", "domains": ["api.example.com", "api.example.com:80"]}
        ]})
    }

    #[test]
    fn exact_then_suffix_then_prefix_then_any() {
        let rc = rc();
        assert_eq!(select(&rc, "API.example.com").0, Some(3));
        assert_eq!(select(&rc, "api.example.com:80").0, Some(3));
        assert_eq!(select(&rc, "api.example.com:81").0, Some(1));
        assert_eq!(select(&rc, "web.example.com").0, Some(2));
        assert_eq!(select(&rc, "example.com").0, Some(0));
    }

    #[test]
    fn no_match_lists_every_host() {
        let rc = json!({"virtual_hosts": [{"name": "a", "domains": ["a", "a:80"]}]});
        let (i, misses) = select(&rc, "b");
        assert_eq!(i, None);
        assert_eq!(misses.len(), 1);
    }
}
