//! `meshplane hash-token`: the `tokens:` entry of the auth config for a new
//! bearer token. The token is read from standard input or a file, never from
//! the command line (where `ps` and shell history would see it).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;

use super::Global;

#[derive(Debug, Args)]
pub struct HashTokenArgs {
    /// Principal the token authenticates (the name policies are attached to
    /// under `principals:`).
    #[arg(long, value_name = "NAME")]
    pub principal: String,
    /// Read the token from this file instead of standard input.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
}

pub fn run(_global: &Global, args: HashTokenArgs) -> anyhow::Result<ExitCode> {
    let principal = args.principal.trim();
    if principal.is_empty() {
        bail!("--principal is empty: name the principal the token authenticates");
    }
    let (token, source) = match &args.token_file {
        Some(path) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token file {}", path.display()))?,
            path.display().to_string(),
        ),
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the token from standard input")?;
            (text, "standard input".to_owned())
        }
    };
    let hash = meshplane_authz::hash_token(&token)
        .with_context(|| format!("the token read from {source} cannot be used"))?;
    print!("{}", meshplane_authz::token_config_entry(principal, &hash));
    Ok(ExitCode::SUCCESS)
}
