//! A real moto_server (PyPI `moto[server]`, an AWS-API-compatible server)
//! on 127.0.0.1, killed on drop. Missing moto fails the test: run
//! `scripts/test.sh` (or `.venv/bin/pip install 'moto[server]'`).

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use meshplane_testsupport::binaries;
use meshplane_testsupport::ports::ReservedPort;
use meshplane_testsupport::process::ChildProcess;
use meshplane_testsupport::wait::wait_for_port;

pub struct MotoServer {
    binary: PathBuf,
    /// Held for the server's whole life, so that a restart finds the port free.
    port: ReservedPort,
    recording: PathBuf,
    log: PathBuf,
    child: Option<ChildProcess>,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

impl MotoServer {
    /// Start moto on a reserved port, recording every request to a file.
    pub fn start() -> Self {
        let port = ReservedPort::new();
        let dir = std::env::temp_dir().join(format!(
            "meshplane-cloudmap-moto-{}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed),
            port.port()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut server = Self {
            binary: binaries::moto_server(),
            port,
            recording: dir.join("recording.jsonl"),
            log: dir.join("moto.log"),
            child: None,
        };
        server.launch();
        server
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    fn addr(&self) -> SocketAddr {
        self.port.addr()
    }

    fn launch(&mut self) {
        assert!(self.child.is_none(), "moto already running");
        let mut child = ChildProcess::spawn_logged(
            "moto_server",
            Command::new(&self.binary)
                .args(["-H", "127.0.0.1", "-p", &self.port.port().to_string()])
                .env("MOTO_ENABLE_RECORDING", "True")
                .env("MOTO_RECORDER_FILEPATH", &self.recording)
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .env("AWS_DEFAULT_REGION", "us-east-1"),
            &self.log,
        );
        wait_for_port(self.addr(), Duration::from_secs(60), &mut child);
        self.child = Some(child);
    }

    /// Kill the server (its data is lost) and wait until the port is closed.
    pub fn stop(&mut self) {
        drop(self.child.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&self.addr(), Duration::from_millis(100)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "port {} still open after kill",
                self.port.port()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Start a fresh, empty server on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// `X-Amz-Target` operation names of the requests recorded so far.
    pub fn recorded_operations(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter_map(|entry| {
                let headers = entry.get("headers")?.as_object()?;
                let target = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target"))?
                    .1
                    .as_str()?;
                Some(target.rsplit('.').next().unwrap_or(target).to_owned())
            })
            .collect()
    }
}
