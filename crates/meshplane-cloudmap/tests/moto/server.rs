//! A real moto_server (PyPI `moto[server]`, an AWS-API-compatible server)
//! on 127.0.0.1, killed on drop. Missing moto fails the test: run
//! `scripts/test.sh` (or `.venv/bin/pip install 'moto[server]'`).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct MotoServer {
    binary: PathBuf,
    port: u16,
    recording: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

fn moto_binary() -> PathBuf {
    let candidate = std::env::var_os("MESHPLANE_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server")
        });
    assert!(
        candidate.is_file(),
        "moto_server not found at {} (set MESHPLANE_MOTO_SERVER, or run scripts/test.sh, \
         which installs moto[server] into .venv)",
        candidate.display()
    );
    candidate
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

static SEQ: AtomicU32 = AtomicU32::new(0);

impl MotoServer {
    /// Start moto on a free port, recording every request to a file.
    pub fn start() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "meshplane-cloudmap-moto-{}-{}-{port}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut server = Self {
            binary: moto_binary(),
            port,
            recording: dir.join("recording.jsonl"),
            log: dir.join("moto.log"),
            child: None,
        };
        server.launch();
        server
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn launch(&mut self) {
        assert!(self.child.is_none(), "moto already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("moto log file");
        let child = Command::new(&self.binary)
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .env("MOTO_ENABLE_RECORDING", "True")
            .env("MOTO_RECORDER_FILEPATH", &self.recording)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log fd"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.binary.display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect_timeout(&self.addr(), Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "moto_server exited with {status} before listening on {}; log {}:\n{}",
                    self.port,
                    self.log.display(),
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {} within 60 s; log {}",
                self.port,
                self.log.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kill the server (its data is lost) and wait until the port is closed.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&self.addr(), Duration::from_millis(100)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "port {} still open after kill",
                self.port
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

impl Drop for MotoServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
