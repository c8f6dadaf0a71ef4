//! `e2e-backend http|tcp|tls --name NAME --listen ADDR`: a toy service that
//! answers with its name (see `meshplane_e2e::backend`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use meshplane_e2e::backend;

#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    kind: Kind,
}

#[derive(Debug, Subcommand)]
enum Kind {
    /// HTTP/1.1 and h2c.
    Http {
        #[arg(long)]
        name: String,
        #[arg(long)]
        listen: SocketAddr,
    },
    /// Greeting then echo.
    Tcp {
        #[arg(long)]
        name: String,
        #[arg(long)]
        listen: SocketAddr,
    },
    /// Greeting then echo inside TLS.
    Tls {
        #[arg(long)]
        name: String,
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        key: PathBuf,
    },
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().kind {
        Kind::Http { name, listen } => backend::http::serve(name, listen).await,
        Kind::Tcp { name, listen } => backend::tcp::serve(name, listen).await,
        Kind::Tls {
            name,
            listen,
            cert,
            key,
        } => backend::tls::serve(name, listen, &cert, &key).await,
    }
}
