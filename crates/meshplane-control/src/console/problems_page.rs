//! The problems page: validation errors and warnings (file:line, resource,
//! field), the proxies' last NACKs traced to the spec, and reload history.

use std::fmt::Write;

use meshplane_spec::Diagnostic;
use serde_json::Value;

use super::html::{esc, page};
use crate::state::ReloadReport;

pub struct Problems<'a> {
    /// The last reload's findings (errors when it was refused).
    pub last_reload: Option<&'a ReloadReport>,
    /// Translation findings of the proxies being served.
    pub translation: Vec<Diagnostic>,
    /// [`super::proxies_state::snapshot`].
    pub proxies: &'a Value,
    pub history: &'a [std::sync::Arc<ReloadReport>],
    /// Why the Kubernetes source is not synced, when it runs and is not.
    pub kubernetes: Option<String>,
}

pub fn render(p: &Problems<'_>) -> String {
    let mut b = String::new();
    b.push_str(r#"<h2 id="validation">Validation</h2>"#);
    let mut diags: Vec<&Diagnostic> = p
        .last_reload
        .map(|r| r.diagnostics.iter().collect())
        .unwrap_or_default();
    diags.extend(p.translation.iter());
    if let Some(err) = p.last_reload.and_then(|r| r.error.as_ref()) {
        let _ = write!(
            b,
            r#"<p class="bad">The last reload was refused; meshplane keeps serving the previous spec set. {}</p>"#,
            esc(err)
        );
    }
    if let Some(why) = &p.kubernetes {
        let _ = write!(
            b,
            r#"<p class="bad">The cluster's App Mesh objects may be behind (the proxies keep what they have). {}</p>"#,
            esc(why)
        );
    }
    if diags.is_empty() {
        b.push_str(r#"<p class="good">No validation errors or warnings.</p>"#);
    } else {
        b.push_str(r#"<table><caption>Errors and warnings of the current spec set</caption><thead><tr><th scope="col">Severity</th><th scope="col">File:line</th><th scope="col">Resource</th><th scope="col">Field</th><th scope="col">Message</th></tr></thead><tbody>"#);
        for d in diags {
            let place = match (&d.file, d.line) {
                (Some(f), Some(l)) => format!("{}:{l}", f.display()),
                (Some(f), None) => f.display().to_string(),
                _ => "—".to_owned(),
            };
            let sev = format!("{:?}", d.severity).to_lowercase();
            let _ = write!(
                b,
                r#"<tr class="{sev}"><td><span class="badge {sev}">{sev}</span></td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td>{} <span class="rule">({})</span></td></tr>"#,
                esc(&place),
                esc(d.resource.as_deref().unwrap_or("—")),
                esc(&d.path),
                esc(&d.message),
                esc(d.rule)
            );
        }
        b.push_str("</tbody></table>");
    }

    b.push_str(r#"<h2 id="nacks">Rejected by Envoy (NACKs)</h2>"#);
    let mut any = false;
    for proxy in p.proxies["proxies"].as_array().into_iter().flatten() {
        for (t, st) in proxy["types"].as_object().into_iter().flatten() {
            let nack = &st["last_nack"];
            if nack.is_null() {
                continue;
            }
            any = true;
            let current = proxy["status"] == "nacked";
            let _ = write!(
                b,
                r#"<article class="nack"><h3>{} · {t}{}</h3><p class="envoy-msg"><strong>Envoy said:</strong> <code>{}</code></p>"#,
                esc(proxy["identity"].as_str().unwrap_or("?")),
                if current {
                    " · still rejected"
                } else {
                    " · since accepted a newer version"
                },
                esc(nack["message"].as_str().unwrap_or(""))
            );
            b.push_str("<ul>");
            for r in nack["resources"].as_array().into_iter().flatten() {
                for a in r["app_mesh"].as_array().into_iter().flatten() {
                    let place = match (a["file"].as_str(), a["line"].as_u64()) {
                        (Some(f), Some(l)) => format!(" in {f}:{l}"),
                        (Some(f), None) => format!(" in {f}"),
                        _ => String::new(),
                    };
                    let _ = write!(
                        b,
                        r#"<li>Envoy resource <code>{}</code> ← App Mesh <code>{}</code>{}</li>"#,
                        esc(r["name"].as_str().unwrap_or("")),
                        esc(a["arn"].as_str().unwrap_or("")),
                        esc(&place)
                    );
                }
            }
            for f in proxy["nack_fields"].as_array().into_iter().flatten() {
                let _ = write!(
                    b,
                    r#"<li class="field">Spec field <code>{}</code> of <code>{}</code>: {}{}</li>"#,
                    esc(f["path"].as_str().unwrap_or("")),
                    esc(f["arn"].as_str().unwrap_or("")),
                    esc(f["finding"].as_str().unwrap_or("")),
                    esc(&match (f["file"].as_str(), f["line"].as_u64()) {
                        (Some(file), Some(l)) => format!(" ({file}:{l})"),
                        (Some(file), None) => format!(" ({file})"),
                        _ => String::new(),
                    })
                );
            }
            b.push_str("</ul></article>");
        }
    }
    if !any {
        b.push_str(r#"<p class="good">No connected proxy has rejected a configuration.</p>"#);
    }

    b.push_str(r#"<h2 id="reloads">Reload history</h2>"#);
    if p.history.is_empty() {
        b.push_str("<p>No reload has finished yet.</p>");
    } else {
        b.push_str(r#"<table><caption>Most recent first</caption><thead><tr><th scope="col">Finished</th><th scope="col">Outcome</th><th scope="col">Took</th><th scope="col">Changes</th><th scope="col">Findings</th></tr></thead><tbody>"#);
        for r in p.history.iter().rev() {
            let outcome = match (&r.error, r.applied) {
                (Some(e), _) => format!("refused: {e}"),
                (None, true) => "applied".to_owned(),
                (None, false) => "no change".to_owned(),
            };
            let c = &r.changes;
            let mut changes = format!(
                "{} created, {} updated, {} removed, {} unchanged",
                c.created.len(),
                c.updated.len(),
                c.removed.len(),
                c.unchanged
            );
            let named: Vec<&String> = c
                .created
                .iter()
                .chain(&c.updated)
                .chain(&c.removed)
                .take(6)
                .collect();
            if !named.is_empty() {
                changes.push_str(": ");
                changes.push_str(
                    &named
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                );
            }
            let _ = write!(
                b,
                r#"<tr><td class="when" data-unix="{at}">{at:.0}</td><td>{}</td><td>{:.0} ms</td><td>{}</td><td>{}</td></tr>"#,
                esc(&outcome),
                r.duration_seconds * 1000.0,
                esc(&changes),
                r.diagnostics.len(),
                at = r.finished_at
            );
        }
        b.push_str("</tbody></table>");
    }
    page("Problems", "/ui/problems", &b)
}
