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
use super::{Global, TranslateArgs, EXIT_FAILURE};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Spec files or directories (repeatable).
    #[arg(long = "config", required_unless_present_any = ["store", "server"], conflicts_with_all = ["store", "server"])]
    pub config: Vec<PathBuf>,
    /// A store (`sqlite:PATH`) instead of spec files: its meshes as the API serves them.
    #[arg(long, conflicts_with = "server")]
    pub store: Option<String>,
    /// A running `meshplane serve`'s admin address (`HOST:PORT`): explain
    /// the configuration it serves now (`/debug/config`; without spec
    /// sources).
    #[arg(long)]
    pub server: Option<String>,
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
    let proxy = if let Some(addr) = &args.server {
        from_server(addr, &id.arn(&ctx))?
    } else {
        let specs = match &args.store {
            Some(url) => Specs::load_source(url, &args.load, &ctx)?,
            None => Specs::load(&args.config, &args.load, &ctx)?,
        };
        let mut err = std::io::stderr().lock();
        for d in &specs.diagnostics {
            writeln!(err, "{d}")?;
        }
        let opts = args.translate.options(&ctx)?;
        specs.served(&id, &opts)?
    };
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

/// The configuration a running server serves `arn` (its admin server's
/// `/debug/config`), over a plain HTTP/1.0 GET.
fn from_server(addr: &str, arn: &str) -> anyhow::Result<meshplane_explain::ServedProxy> {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr)
        .with_context(|| format!("--server {addr}: cannot connect to the admin server"))?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    write!(
        s,
        "GET /debug/config?node={arn} HTTP/1.0\r\nHost: {addr}\r\n\r\n"
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)
        .with_context(|| format!("--server {addr}: reading /debug/config"))?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .with_context(|| format!("--server {addr}: not an HTTP answer"))?;
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        bail!(
            "--server {addr}: /debug/config?node={arn} answered {status}: {}",
            body.trim()
        );
    }
    let resources: serde_json::Value = serde_json::from_str(body)
        .with_context(|| format!("--server {addr}: /debug/config is not JSON"))?;
    Ok(meshplane_explain::ServedProxy {
        arn: arn.to_owned(),
        resources,
        sources: Default::default(),
    })
}
