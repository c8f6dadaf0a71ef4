//! Every figure of a run in one table (scenario, figure, value), printed
//! last as Markdown, to paste into an issue note.

use std::time::Duration;

use crate::proxy::{EndCounts, StreamEnd};
use crate::report::{mib, ms, ChangeFigures, Report};

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub scenario: String,
    pub figure: String,
    pub value: String,
}

fn row(scenario: &str, figure: impl Into<String>, value: impl Into<String>) -> Row {
    Row {
        scenario: scenario.to_owned(),
        figure: figure.into(),
        value: value.into(),
    }
}

fn pair(a: Duration, b: Duration) -> String {
    format!("{} / {}", ms(a), ms(b))
}

fn ends(e: &EndCounts) -> String {
    StreamEnd::ALL
        .iter()
        .map(|k| format!("{} {}", k.name(), e[*k as usize]))
        .collect::<Vec<_>>()
        .join(", ")
}

fn change(c: &ChangeFigures) -> String {
    let expected = c
        .expected
        .map(|e| e.to_string())
        .unwrap_or_else(|| "?".to_owned());
    let build = c
        .server_build
        .map(|b| format!(", server build {}", ms(b)))
        .unwrap_or_default();
    format!(
        "{} of {expected} proxies, odd {}, p50 {}, p99 {}, max {}{build}",
        c.reached,
        c.unexpected + c.missing,
        ms(c.p50),
        ms(c.p99),
        ms(c.max),
    )
}

/// The median and the largest of the changes' p99s ("-" for none).
fn p99_spread(changes: &[ChangeFigures]) -> String {
    let mut p99: Vec<Duration> = changes.iter().map(|c| c.p99).collect();
    p99.sort();
    match (p99.get(p99.len() / 2), p99.last()) {
        (Some(m), Some(x)) => format!("{} / {}", ms(*m), ms(*x)),
        _ => "-".to_owned(),
    }
}

/// The rows of `report`, scenario by scenario.
pub fn rows(r: &Report) -> Vec<Row> {
    let mut out = Vec::new();
    let run = "run";
    out.push(row(
        run,
        "proxies",
        format!(
            "{} ({} SotW, {} delta) as {} nodes over {} HTTP/2 connections",
            r.proxies,
            r.proxies - r.delta,
            r.delta,
            r.nodes,
            r.connections
        ),
    ));
    let sync = "initial sync";
    out.push(row(
        sync,
        "all proxies synced",
        match r.sync.all_synced {
            Some(d) => ms(d),
            None => format!(
                "NOT all: {} synced, {} failed after {}",
                r.sync.synced,
                r.sync.failed,
                ms(r.sync.waited)
            ),
        },
    ));
    out.push(row(
        sync,
        "per proxy p50 / p99",
        pair(r.sync.p50, r.sync.p99),
    ));
    out.push(row(
        sync,
        "server connected-proxies gauge",
        format!("{}", r.sync.connected_gauge),
    ));
    out.push(row(
        sync,
        "server RSS idle / synced",
        format!(
            "{} / {}",
            mib(r.idle.server.rss_kib),
            mib(r.synced.server.rss_kib)
        ),
    ));
    out.push(row(
        sync,
        "CPU s server / loadgen",
        format!(
            "{:.2} / {:.2}",
            r.synced.server.cpu_seconds - r.idle.server.cpu_seconds,
            r.synced.client.cpu_seconds - r.idle.client.cpu_seconds
        ),
    ));
    let changes = format!("changes ({} -> ACK)", r.changes_via);
    for c in &r.changes {
        out.push(row(&changes, c.label.clone(), change(c)));
    }
    if let Some(s) = &r.stuck {
        let stuck = "stuck proxies";
        out.push(row(
            stuck,
            "stuck / held for / changes meanwhile",
            format!(
                "{} / {:.1} s / {}",
                s.stuck,
                s.held.as_secs_f64(),
                s.changes
            ),
        ));
        out.push(row(
            stuck,
            "others' fan-out p50 / p99 while stuck",
            pair(s.others_p50, s.others_p99),
        ));
        out.push(row(
            stuck,
            "others' fan-out p50 / p99 before (nobody stuck)",
            s.without
                .map(|(a, b)| pair(a, b))
                .unwrap_or_else(|| "- (no changes before)".to_owned()),
        ));
        out.push(row(
            stuck,
            "per-change p99, median / max: before / while stuck",
            format!(
                "{} / {}",
                p99_spread(&r.changes),
                p99_spread(&r.stuck_changes)
            ),
        ));
        let odd: usize = r
            .stuck_changes
            .iter()
            .map(|c| c.unexpected + c.missing)
            .sum();
        out.push(row(
            stuck,
            "odd proxies over the period's changes",
            odd.to_string(),
        ));
        out.push(row(
            stuck,
            "server RSS before / peak / end / after catching up",
            format!(
                "{} / {} / {} / {}",
                mib(s.server_rss_kib_before),
                mib(s.server_rss_kib_peak),
                mib(s.server_rss_kib_while_stuck),
                mib(s.server_rss_kib_after)
            ),
        ));
        out.push(row(
            stuck,
            "caught up after resuming",
            format!("{} of {} in {}", s.caught_up, s.stuck, ms(s.after)),
        ));
    }
    let end = "end of changes";
    out.push(row(
        end,
        "server RSS / peak (VmHWM)",
        format!(
            "{} / {}",
            mib(r.end.server.rss_kib),
            mib(r.end.server.hwm_kib)
        ),
    ));
    out.push(row(
        end,
        "CPU s during the changes, server / loadgen",
        format!(
            "{:.2} / {:.2}",
            r.end.server.cpu_seconds - r.synced.server.cpu_seconds,
            r.end.client.cpu_seconds - r.synced.client.cpu_seconds
        ),
    ));
    out.push(row(end, "NACKs", format!("{}", r.nacks)));
    out.push(row(end, "streams failed", r.failed_at_end.to_string()));
    if let Some(s) = &r.storm {
        let storm = "reconnect storm";
        out.push(row(
            storm,
            "signal / old server exited / new server ready",
            format!(
                "{:?} / {} / {}",
                s.signal,
                ms(s.exited_after),
                ms(s.ready_after)
            ),
        ));
        out.push(row(
            storm,
            "all proxies resynced (from the signal)",
            match s.all_resynced {
                Some(d) => ms(d),
                None => format!(
                    "NOT all: {} of {} after {}",
                    s.resynced,
                    s.proxies,
                    ms(s.waited)
                ),
            },
        ));
        out.push(row(storm, "per proxy resync p50 / p99", pair(s.p50, s.p99)));
        out.push(row(
            storm,
            "stream ends until the server was ready",
            ends(&s.ends_while_down),
        ));
        out.push(row(
            storm,
            "stream ends after it was ready",
            ends(&s.ends_after_ready),
        ));
        out.push(row(
            storm,
            "responses on the new streams, SotW / delta",
            format!("{} / {}", s.sotw_responses, s.delta_responses),
        ));
        out.push(row(
            storm,
            "server RSS before / after the storm",
            format!(
                "{} / {}",
                mib(s.server_before.rss_kib),
                mib(s.server_after.rss_kib)
            ),
        ));
        out.push(row(
            storm,
            "new server CPU s (all of it) / peak RSS",
            format!(
                "{:.2} / {}",
                s.server_after.cpu_seconds,
                mib(s.server_after.hwm_kib)
            ),
        ));
        out.push(row(
            storm,
            "check: all resynced, no resource failure",
            if s.clean() { "ok" } else { "FAILED" },
        ));
    }
    out.push(row(run, "clean", if r.clean() { "yes" } else { "NO" }));
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from("| scenario | figure | value |\n|---|---|---|\n");
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            cell(&r.scenario),
            cell(&r.figure),
            cell(&r.value)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_escapes_pipes_and_keeps_order() {
        let t = table(&[row("a", "x|y", "1"), row("b", "z", "2 ms")]);
        assert_eq!(
            t,
            "| scenario | figure | value |\n|---|---|---|\n| a | x\\|y | 1 |\n| b | z | 2 ms |\n"
        );
    }

    #[test]
    fn ends_name_every_kind() {
        assert_eq!(
            ends(&[1, 2, 3, 4]),
            "resource 1, connection 2, closed 3, other 4"
        );
    }
}
