//! `meshplane explain --config DIR --node ARN --request 'GET http://host:port/path' [-H 'name: value']...`
//! (or `--tcp HOST:PORT [--sni NAME]`): where the proxy sends that request
//! and why, step by step with the App Mesh resources behind each step.
//! Exit code 0 when the request reaches a cluster, 1 when it does not (or
//! the command fails).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use meshplane_explain::explain::Entry;
use meshplane_explain::{explain, text, Request};
use meshplane_spec::{ResourceId, ResourceKind};

use super::load_args::LoadArgs;
use super::served_proxies::Specs;
use super::{translate_options, Global, EXIT_FAILURE};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Spec files or directories (repeatable).
    #[arg(long = "config", required = true)]
    pub config: Vec<PathBuf>,
    /// The proxy: a full ARN or `mesh/<mesh>/virtualNode/<name>` (or `virtualGateway`).
    #[arg(long)]
    pub node: String,
    /// The HTTP request: `'METHOD SCHEME://HOST[:PORT]/PATH[?QUERY]'`. A gRPC
    /// call is `'POST http://HOST:PORT/package.Service/Method'` with
    /// `-H 'content-type: application/grpc'`.
    #[arg(long, conflicts_with = "tcp", required_unless_present = "tcp")]
    pub request: Option<String>,
    /// A request header, `'name: value'` (repeatable; `host:` replaces the URL's).
    #[arg(short = 'H', long = "header", requires = "request")]
    pub headers: Vec<String>,
    /// A TCP connection to `HOST:PORT` instead of an HTTP request.
    #[arg(long)]
    pub tcp: Option<String>,
    /// The TLS server name the connecting client sends.
    #[arg(long, requires = "tcp")]
    pub sni: Option<String>,
    /// Follow the request into a virtual node's ingress listener (as its
    /// callers reach it) instead of out through its egress listener. A
    /// virtual gateway always takes requests in.
    #[arg(long)]
    pub inbound: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// As `render`: leave out App Mesh's default route retry policy.
    #[arg(long)]
    pub no_default_retry_policy: bool,
    /// As `render`: the `serve --certificates` directory.
    #[arg(long, env = "MESHPLANE_CERTIFICATES", value_name = "DIR")]
    pub certificates: Option<PathBuf>,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run(global: &Global, args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let ctx = global.arn_context();
    let id = ResourceId::parse(&args.node, &ctx).context("--node")?;
    let gateway = match id.kind {
        ResourceKind::VirtualNode => false,
        ResourceKind::VirtualGateway => true,
        other => bail!(
            "--node {}: a proxy is a virtual node or a virtual gateway (got a {other})",
            args.node
        ),
    };
    let request = match (&args.request, &args.tcp) {
        (Some(line), _) => Request::http(line, &args.headers)?,
        (None, Some(target)) => Request::tcp(target, args.sni.as_deref())?,
        (None, None) => bail!("give --request or --tcp"),
    };
    let specs = Specs::load(&args.config, &args.load, &ctx)?;
    let mut err = std::io::stderr().lock();
    for d in &specs.diagnostics {
        writeln!(err, "{d}")?;
    }
    let opts = translate_options(
        &ctx,
        args.no_default_retry_policy,
        args.certificates.as_deref(),
    )?;
    let proxy = specs.served(&id, &opts)?;
    let entry = if gateway || args.inbound {
        Entry::Inbound
    } else {
        Entry::Outbound
    };
    let e = explain(&proxy, &request, entry);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => write!(out, "{}", text::explanation(&e))?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &e)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(if e.matched {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    })
}
