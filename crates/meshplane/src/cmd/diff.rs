//! `meshplane diff --from DIR|STORE_URL --to DIR|STORE_URL`: what the
//! change from one set of specs to another does to every proxy's served
//! configuration, with the App Mesh resources that cause each change and
//! the risky ones flagged. Exit code 0 no change, 1 changes, 2 the `--to`
//! (or `--from`) specs are invalid (printed as `validate` prints them).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use meshplane_explain::diff::{ChangeKind, DiffReport};
use meshplane_explain::diff_proxies;

use super::load_args::LoadArgs;
use super::served_proxies::Specs;
use super::{Global, TranslateArgs};
use meshplane_control::reload_diff::changed_resources;

/// Exit code: the specs are invalid.
pub const EXIT_INVALID: u8 = 2;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The specs as they are: a spec file or directory, or a store URL (`sqlite:PATH`).
    #[arg(long)]
    pub from: String,
    /// The specs as they would be.
    #[arg(long)]
    pub to: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub translate: TranslateArgs,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run(global: &Global, args: DiffArgs) -> anyhow::Result<ExitCode> {
    let ctx = global.arn_context();
    let opts = args.translate.options(&ctx)?;
    let from = Specs::load_source(&args.from, &args.load, &ctx).context("--from")?;
    let to = Specs::load_source(&args.to, &args.load, &ctx).context("--to")?;
    let mut out = std::io::stdout().lock();
    for (flag, specs) in [("--from", &from), ("--to", &to)] {
        if specs.has_errors() {
            let errors = specs.diagnostics.iter().filter(|d| d.is_error()).count();
            match args.format {
                Format::Text => {
                    for d in &specs.diagnostics {
                        writeln!(out, "{d}")?;
                    }
                    writeln!(out, "{flag}: {errors} error(s): nothing compared")?;
                }
                Format::Json => {
                    let v = serde_json::json!({
                        "valid": false,
                        "side": flag,
                        "diagnostics": specs.diagnostics,
                    });
                    serde_json::to_writer_pretty(&mut out, &v)?;
                    writeln!(out)?;
                }
            }
            return Ok(ExitCode::from(EXIT_INVALID));
        }
    }
    let changed = changed_resources(&from.loaded.model, &to.loaded.model, &ctx);
    let report = diff_proxies(&from.all_served(&opts)?, &to.all_served(&opts)?, &changed);
    match args.format {
        Format::Text => write!(out, "{}", text(&report))?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(if report.proxies.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The text form: per proxy its risks, then each changed resource with its
/// causes and fields.
pub fn text(report: &DiffReport) -> String {
    let mut s = String::new();
    for (arn, p) in &report.proxies {
        let head = match p.proxy {
            Some(ChangeKind::Added) => " (new proxy)",
            Some(ChangeKind::Removed) => " (proxy removed)",
            _ => "",
        };
        s.push_str(&format!("proxy {arn}{head}\n"));
        for r in &p.risks {
            s.push_str(&format!("  RISK {}: {}\n", r.rule, r.message));
        }
        for r in &p.resources {
            let sign = match r.change {
                ChangeKind::Added => "+",
                ChangeKind::Removed => "-",
                ChangeKind::Changed => "~",
            };
            s.push_str(&format!("  {sign} {} {}\n", r.kind, r.name));
            for c in &r.causes {
                s.push_str(&format!("      because of {c}\n"));
            }
            for f in &r.fields {
                let show = |v: &Option<serde_json::Value>| {
                    v.as_ref()
                        .map_or_else(|| "(absent)".to_owned(), |v| v.to_string())
                };
                s.push_str(&format!(
                    "      {}: {} -> {}\n",
                    f.path,
                    show(&f.from),
                    show(&f.to)
                ));
            }
        }
    }
    s.push_str(&report.summary());
    s.push('\n');
    s
}
