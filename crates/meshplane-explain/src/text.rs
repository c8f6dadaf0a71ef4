//! The text form of an explanation: one block per hop, each step with the
//! App Mesh resources behind it.

use std::fmt::Write;

use crate::action::Target;
use crate::explain::{Explanation, Hop};

pub fn explanation(e: &Explanation) -> String {
    let mut out = String::new();
    let what = match &e.request.http {
        Some(h) => format!(
            "{} {}://{}{}",
            h.method,
            h.scheme,
            h.authority(),
            h.header(":path").unwrap_or_default()
        ),
        None => match &e.request.sni {
            Some(sni) => format!(
                "TLS {}:{} (server name {sni})",
                e.request.host, e.request.port
            ),
            None => format!("TCP {}:{}", e.request.host, e.request.port),
        },
    };
    let _ = writeln!(out, "proxy    {}", e.proxy);
    let _ = writeln!(out, "request  {what}");
    for (i, h) in e.hops.iter().enumerate() {
        let _ = writeln!(out);
        if e.hops.len() > 1 {
            let _ = writeln!(out, "hop {}", i + 1);
        }
        hop(&mut out, h);
    }
    let _ = writeln!(out);
    if e.matched {
        let _ = writeln!(out, "result   MATCHED");
    } else {
        let _ = writeln!(
            out,
            "result   NOT MATCHED: {}",
            e.failure.as_deref().unwrap_or("no cluster")
        );
        if !e.near_misses.is_empty() {
            let _ = writeln!(out, "near misses:");
            for m in &e.near_misses {
                let _ = writeln!(out, "  {}: {}", m.candidate, m.reason);
            }
        }
    }
    out
}

fn line(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(out, "  {label:<13}{value}");
}

fn hop(out: &mut String, h: &Hop) {
    if let Some(l) = &h.listener {
        line(out, "listener", l);
    }
    if let Some(fc) = &h.filter_chain {
        line(out, "filter chain", fc);
    }
    if let Some(f) = &h.filter {
        line(out, "filter", f);
    }
    if let Some(r) = &h.request {
        line(out, "request", r);
    }
    if let Some(rc) = &h.route_configuration {
        line(out, "route config", rc);
    }
    if let Some(vh) = &h.virtual_host {
        line(out, "virtual host", vh);
    }
    if h.route.is_some() {
        for m in &h.near_misses {
            line(out, "skipped", &format!("{}: {}", m.candidate, m.reason));
        }
    }
    if let Some(r) = &h.route {
        line(out, "route", r);
    }
    for r in &h.rewrites {
        line(out, "rewrite", r);
    }
    match &h.target {
        Some(Target::Cluster(c)) => line(out, "cluster", c),
        Some(Target::Clusters(list)) => {
            for c in list {
                line(out, "cluster", &format!("{} (weight {})", c.name, c.weight));
            }
        }
        Some(Target::DirectResponse { status }) => {
            line(out, "response", &format!("direct response {status}"));
        }
        Some(Target::Redirect(r)) => line(out, "redirect", &r.to_string()),
        Some(Target::Unknown) | None => {}
    }
    for c in &h.clusters {
        if !c.endpoints.is_empty() {
            line(
                out,
                "endpoints",
                &format!(
                    "{} ({})",
                    c.endpoints.join(", "),
                    c.discovery.as_deref().unwrap_or("")
                ),
            );
        }
        if let Some(tls) = &c.tls {
            let sni = tls["sni"].as_str().unwrap_or("none");
            line(
                out,
                "tls",
                &format!("{}: originates TLS (SNI {sni})", c.name),
            );
        }
        if let Some(o) = &c.outlier_detection {
            line(out, "outlier", &format!("{}: {o}", c.name));
        }
    }
    if let Some(t) = &h.timeout {
        line(out, "timeout", t);
    }
    if let Some(r) = &h.retry_policy {
        let on = r["retry_on"].as_str().unwrap_or("");
        let n = r["num_retries"].as_u64().unwrap_or(1);
        let mut s = format!("{n} retries on {on}");
        if let Some(t) = r["per_try_timeout"].as_str() {
            let _ = write!(s, ", {t} per try");
        }
        line(out, "retries", &s);
    }
    for s in &h.sources {
        line(out, "from", &s.to_string());
    }
    if let Some(f) = &h.failure {
        line(out, "stops", f);
    }
}
