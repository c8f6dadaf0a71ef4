//! `e2e-backend http|https|tcp|tls --name NAME --listen ADDR`: a toy service that
//! answers with its name; `e2e-backend dns --listen ADDR --zone FILE`: a DNS
//! server (see `meshplane_e2e::backend`).

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
    /// HTTP/1.1 inside TLS (`--cert`, `--key`: PEM files).
    Https {
        #[arg(long)]
        name: String,
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        key: PathBuf,
    },
    /// DNS `A` answers from a zone file of `name address` lines.
    Dns {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        zone: PathBuf,
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
        Kind::Https {
            name,
            listen,
            cert,
            key,
        } => {
            let tls = backend::tls::acceptor(&cert, &key)?;
            backend::http::serve_with(name, listen, Some(tls)).await
        }
        Kind::Dns { listen, zone } => backend::dns::serve(listen, &zone).await,
        Kind::Tcp { name, listen } => backend::tcp::serve(name, listen).await,
        Kind::Tls {
            name,
            listen,
            cert,
            key,
        } => backend::tls::serve(name, listen, &cert, &key).await,
    }
}
