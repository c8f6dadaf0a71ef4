//! The command line: global options and one module per subcommand.
//!
//! Exit codes: 0 success, 1 the input is invalid or the command failed,
//! 2 usage errors (clap's own).

pub mod bootstrap;
pub mod diff;
pub mod envoy;
pub mod explain;
pub mod export;
pub mod hash_token;
pub mod import;
pub mod load_args;
pub mod render;
pub mod serve;
pub mod serve_api;
pub mod serve_api_tls;
pub mod serve_kube;
pub mod served_proxies;
pub mod validate;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use meshplane_spec::ArnContext;

/// The input is invalid or the command failed.
pub const EXIT_FAILURE: u8 = 1;

/// An open-source App Mesh control plane for Envoy.
#[derive(Debug, Parser)]
#[command(name = "meshplane", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand shares.
#[derive(Debug, Args)]
pub struct Global {
    /// AWS region used in resource ARNs.
    #[arg(
        long,
        global = true,
        env = "MESHPLANE_REGION",
        default_value = "us-east-1"
    )]
    pub region: String,
    /// Account that owns resources whose spec names none (the mesh owner in ARNs).
    #[arg(
        long,
        global = true,
        env = "MESHPLANE_ACCOUNT",
        default_value = "000000000000",
        value_parser = parse_account
    )]
    pub account: String,
}

/// An AWS account ID: 12 digits, as App Mesh requires of a mesh owner.
fn parse_account(s: &str) -> Result<String, String> {
    meshplane_spec::check_account_id(s).map(|()| s.to_owned())
}

impl Global {
    pub fn arn_context(&self) -> ArnContext {
        ArnContext {
            region: self.region.clone(),
            account: self.account.clone(),
            ..ArnContext::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load App Mesh specs and report every error and warning.
    Validate(validate::ValidateArgs),
    /// Print the Envoy bootstrap for a proxy, from the environment variables
    /// App Mesh's Envoy image read (APPMESH_RESOURCE_ARN, APPMESH_XDS_ENDPOINT, ...).
    Bootstrap(bootstrap::BootstrapArgs),
    /// Sidecar entrypoint: write the bootstrap, then run Envoy with it.
    Envoy(envoy::EnvoyArgs),
    /// Load App Mesh specs (any format) and print them as AWS CLI input documents.
    Export(export::ExportArgs),
    /// Load App Mesh specs (any format) into a store (`--store sqlite:PATH`)
    /// as one transaction: every resource or none.
    Import(import::ImportArgs),
    /// Print the Envoy configuration (listeners, routes, clusters, endpoints,
    /// secrets) meshplane serves one virtual node's proxy.
    Render(render::RenderArgs),
    /// Follow a request (or TCP connection) through one proxy's served
    /// configuration as Envoy would, naming the App Mesh resource behind each step.
    Explain(explain::ExplainArgs),
    /// Compare what two sets of specs serve every proxy: Envoy resources
    /// added, removed or changed, their App Mesh causes and risky changes.
    /// Exit code 0 no change, 1 changes, 2 invalid specs.
    Diff(diff::DiffArgs),
    /// Serve every virtual node's Envoy configuration over xDS (ADS),
    /// reloading on spec changes and SIGHUP, with an admin HTTP server.
    Serve(Box<serve::ServeArgs>),
    /// Read a bearer token on standard input (or --token-file) and print the
    /// `tokens:` entry (principal and SHA-256) for the auth config.
    HashToken(hash_token::HashTokenArgs),
}

impl Command {
    pub fn run(self, global: &Global) -> anyhow::Result<ExitCode> {
        match self {
            Command::Validate(args) => validate::run(global, args),
            Command::Bootstrap(args) => bootstrap::run(global, args),
            Command::Envoy(args) => envoy::run(global, args),
            Command::Export(args) => export::run(global, args),
            Command::Import(args) => import::run(global, args),
            Command::Render(args) => render::run(global, args),
            Command::Explain(args) => explain::run(global, args),
            Command::Diff(args) => diff::run(global, args),
            Command::Serve(args) => serve::run(global, *args),
            Command::HashToken(args) => hash_token::run(global, args),
        }
    }
}

/// The translation flags `render`, `explain` and `diff` share.
#[derive(Debug, Args)]
pub struct TranslateArgs {
    /// Leave out App Mesh's default route retry policy (meshes created
    /// before it existed never had it).
    #[arg(long)]
    pub no_default_retry_policy: bool,
    /// DNS-discovered clusters exactly as App Mesh served them (see `serve`).
    #[arg(long, hide = true)]
    pub app_mesh_dns_clusters: bool,
    /// The `serve --certificates` directory: its ACM ARNs count as held
    /// (the output names their secrets; the PEM material is never printed).
    #[arg(long, env = "MESHPLANE_CERTIFICATES", value_name = "DIR")]
    pub certificates: Option<std::path::PathBuf>,
}

impl TranslateArgs {
    /// The translation options these flags give.
    pub fn options(
        &self,
        ctx: &ArnContext,
    ) -> anyhow::Result<meshplane_translate::TranslateOptions> {
        Ok(meshplane_translate::TranslateOptions {
            default_retry_policy: !self.no_default_retry_policy,
            app_mesh_dns_clusters: self.app_mesh_dns_clusters,
            arn: ctx.clone(),
            held_certificates: match &self.certificates {
                Some(dir) => meshplane_control::certificates::CertificateStore::load(dir)?.arns(),
                None => Default::default(),
            },
        })
    }
}
