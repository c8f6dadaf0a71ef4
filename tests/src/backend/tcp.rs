//! Raw TCP backend: greets with its name, then echoes.

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serve until the process is killed.
pub async fn serve(name: String, listen: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    eprintln!("e2e-backend tcp {name} listening on {listen}");
    loop {
        let (stream, _) = listener.accept().await?;
        let name = name.clone();
        tokio::spawn(async move {
            let _ = greet_and_echo(stream, &name).await;
        });
    }
}

/// Write `<name>\n`, then echo until the peer closes.
pub async fn greet_and_echo<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    name: &str,
) -> std::io::Result<()> {
    stream.write_all(format!("{name}\n").as_bytes()).await?;
    stream.flush().await?;
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return stream.shutdown().await;
        }
        stream.write_all(&buf[..n]).await?;
        stream.flush().await?;
    }
}
