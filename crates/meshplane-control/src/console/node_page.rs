//! The per-node page: the Envoy configuration meshplane renders for one
//! proxy (what `meshplane render` prints), grouped by xDS type, each
//! resource linked to the App Mesh resources that produced it.

use std::fmt::Write;

use meshplane_spec::ResourceId;
use meshplane_xds::{ProxyKey, ResourceType};

use super::graph::vertex_id;
use super::html::{esc, page, query_value};
use crate::provenance;
use crate::state::ControlState;

/// The JSON keys of `render::to_json` and their xDS types.
const GROUPS: [(&str, &str, ResourceType); 5] = [
    ("listeners", "Listeners (LDS)", ResourceType::Listener),
    ("routes", "Route configurations (RDS)", ResourceType::Route),
    ("clusters", "Clusters (CDS)", ResourceType::Cluster),
    ("endpoints", "Endpoints (EDS)", ResourceType::Endpoint),
    ("secrets", "Secrets (SDS)", ResourceType::Secret),
];

/// `Err` is (HTTP status, the page explaining why).
pub fn render(control: &ControlState, name: Option<&str>) -> Result<String, (u16, String)> {
    let Some(served) = control.served() else {
        return Err((
            503,
            page(
                "Proxy configuration",
                "",
                "<p>No valid spec set is loaded yet.</p>",
            ),
        ));
    };
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        let mut b = String::from(
            "<p>Pick a proxy to see the configuration meshplane serves it.</p><ul class=\"nodes\">",
        );
        for p in served.proxies.values() {
            let short = p.id.short();
            let _ = write!(
                b,
                r#"<li><a href="/ui/node?name={}">{}</a></li>"#,
                query_value(&short),
                esc(&short)
            );
        }
        b.push_str("</ul>");
        return Ok(page("Proxy configuration", "", &b));
    };
    let id = ResourceId::parse(name, &control.arn).map_err(|e| {
        (
            400,
            page(
                "Proxy configuration",
                "",
                &format!(
                    "<p class=\"bad\">?name={}: {}</p>",
                    esc(name),
                    esc(&e.to_string())
                ),
            ),
        )
    })?;
    let key = ProxyKey::new(id.arn(&control.arn));
    let Some(proxy) = served.proxies.get(&key) else {
        return Err((
            404,
            page(
                "Proxy configuration",
                "",
                &format!(
                    "<p class=\"bad\">meshplane serves no proxy {}.</p>",
                    esc(&id.short())
                ),
            ),
        ));
    };
    let json = proxy
        .translation
        .resources()
        .map_err(|e| e.to_string())
        .and_then(|r| meshplane_translate::render::to_json(&r).map_err(|e| e.to_string()))
        .map_err(|e| (500, page("Proxy configuration", "", &esc(&e.to_string()))))?;
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<p class="meta"><span class="pill">{}</span> <a href="/ui/map?focus={}">show on the map</a> · <a href="/debug/config?node={}">raw JSON</a></p><nav class="toc" aria-label="xDS types"><ul>"#,
        esc(&key.to_string()),
        query_value(&vertex_id(&id).unwrap_or_default()),
        query_value(&id.short())
    );
    for (k, title, _) in GROUPS {
        let n = json[k].as_array().map_or(0, Vec::len);
        let _ = write!(b, r##"<li><a href="#{k}">{title}: {n}</a></li>"##);
    }
    b.push_str("</ul></nav>");
    for (k, title, t) in GROUPS {
        let _ = write!(
            b,
            r#"<section aria-labelledby="{k}"><h2 id="{k}">{title}</h2>"#
        );
        let items = json[k].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            b.push_str("<p>None.</p>");
        }
        for item in &items {
            let rname = item["name"]
                .as_str()
                .or_else(|| item["cluster_name"].as_str())
                .unwrap_or("(unnamed)")
                .to_owned();
            let sources =
                provenance::sources(&served, &control.arn, &key, t, std::slice::from_ref(&rname));
            let _ = write!(
                b,
                r#"<article class="resource"><h3>{}</h3><p class="from">From: "#,
                esc(&rname)
            );
            let mut any = false;
            for s in &sources {
                for a in &s.app_mesh {
                    any = true;
                    let short = ResourceId::parse(&a.arn, &control.arn).ok();
                    let label = short.as_ref().map_or(a.arn.clone(), ResourceId::short);
                    let focus = short.as_ref().and_then(vertex_id).unwrap_or_default();
                    let place = match (&a.file, a.line) {
                        (Some(f), Some(l)) => format!(" ({f}:{l})"),
                        (Some(f), None) => format!(" ({f})"),
                        _ => String::new(),
                    };
                    let _ = write!(
                        b,
                        r#"<a class="src" href="/ui/map?focus={}">{}</a>{} "#,
                        query_value(&focus),
                        esc(&label),
                        esc(&place)
                    );
                }
            }
            if !any {
                b.push_str("meshplane's defaults (no App Mesh resource)");
            }
            let pretty = serde_json::to_string_pretty(item).unwrap_or_default();
            let _ = write!(
                b,
                r#"</p><details><summary>Envoy JSON ({} lines)</summary><pre>{}</pre></details></article>"#,
                pretty.lines().count(),
                esc(&pretty)
            );
        }
        b.push_str("</section>");
    }
    Ok(page(
        &format!("Proxy configuration: {}", id.short()),
        "",
        &b,
    ))
}
