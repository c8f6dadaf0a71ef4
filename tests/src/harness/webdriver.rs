//! Headless Chromium driven over WebDriver (chromedriver's HTTP JSON
//! protocol) with a small blocking HTTP/1.1 client: the browser tests of
//! the web console. Debian's `chromium` and `chromium-driver` (installed by
//! scripts/prereqs.sh); a test fails when they are missing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

/// A chromedriver process and one browser session.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: PathBuf,
}

fn find(names: &[&str]) -> anyhow::Result<PathBuf> {
    for n in names {
        for dir in ["/usr/bin", "/usr/local/bin", "/usr/lib/chromium"] {
            let p = Path::new(dir).join(n);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    bail!(
        "{} not found: install Debian's chromium and chromium-driver (scripts/prereqs.sh does)",
        names.join(" or ")
    )
}

impl Browser {
    /// Start chromedriver and a headless Chromium session with a fresh
    /// profile under `scratch`.
    pub fn start(scratch: &Path) -> anyhow::Result<Browser> {
        let chromium = find(&["chromium", "chromium-browser"])?;
        let driver_bin = find(&["chromedriver"])?;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?.port()
        };
        let profile = scratch.join(format!("chromium-profile-{port}"));
        std::fs::create_dir_all(&profile)?;
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", driver_bin.display()))?;
        let mut b = Browser {
            driver,
            port,
            session: String::new(),
            _profile: profile.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while b.request("GET", "/status", None).is_err() {
            if Instant::now() > deadline {
                bail!("chromedriver did not answer on port {port}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--no-first-run", "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.display()),
                    "--window-size=1600,1000",
                ],
            },
        }}});
        let v = b.request("POST", "/session", Some(&caps))?;
        b.session = v["sessionId"]
            .as_str()
            .context("chromedriver gave no session id")?
            .to_owned();
        Ok(b)
    }

    fn cmd(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        self.request(method, &format!("/session/{}{path}", self.session), body)
    }

    /// Open `url` (waits for the load event).
    pub fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.cmd("POST", "/url", Some(&json!({ "url": url })))?;
        Ok(())
    }

    /// Run `script` (a function body; `arguments` holds `args`) in the page.
    pub fn eval(&self, script: &str, args: &[Value]) -> anyhow::Result<Value> {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(&json!({ "script": script, "args": args })),
        )
    }

    /// Poll `script` until it returns something other than null/false.
    pub fn wait_for(&self, what: &str, timeout: Duration, script: &str) -> anyhow::Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.eval(script, &[])?;
            if !(v.is_null() || v == Value::Bool(false)) {
                return Ok(v);
            }
            if Instant::now() > deadline {
                bail!("timed out after {timeout:?} waiting for {what}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn set_window(&self, width: u32, height: u32) -> anyhow::Result<()> {
        self.cmd(
            "POST",
            "/window/rect",
            Some(&json!({ "width": width, "height": height })),
        )?;
        Ok(())
    }

    /// Save a PNG screenshot of the viewport to `path`.
    pub fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        let v = self.cmd("GET", "/screenshot", None)?;
        let png = base64_decode(v.as_str().context("screenshot is not a string")?)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
    }

    /// One WebDriver call: the response's `value`, or its error.
    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )?;
        // chromedriver keeps the connection open: read by Content-Length.
        let mut raw = Vec::new();
        let mut buf = [0u8; 65536];
        let (split, length, chunked) = loop {
            let n = s.read(&mut buf)?;
            if n == 0 {
                bail!("{method} {path}: chromedriver closed the connection");
            }
            raw.extend_from_slice(&buf[..n]);
            if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
                let length = head.lines().find_map(|l| {
                    l.strip_prefix("content-length:")
                        .and_then(|v| v.trim().parse::<usize>().ok())
                });
                break (split, length, head.contains("transfer-encoding: chunked"));
            }
        };
        let mut payload = raw[split + 4..].to_vec();
        if chunked {
            while !payload.ends_with(b"0\r\n\r\n") {
                let n = s.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                payload.extend_from_slice(&buf[..n]);
            }
            payload = dechunk(&payload)?;
        } else if let Some(length) = length {
            while payload.len() < length {
                let n = s.read(&mut buf)?;
                if n == 0 {
                    bail!("{method} {path}: answer cut short");
                }
                payload.extend_from_slice(&buf[..n]);
            }
        } else {
            s.read_to_end(&mut payload)?;
        }
        let v: Value = serde_json::from_slice(&payload)
            .with_context(|| format!("{method} {path}: answer is not JSON"))?;
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if let Some(err) = value.get("error").and_then(Value::as_str) {
            bail!(
                "{method} {path}: {err}: {}",
                value["message"].as_str().unwrap_or("")
            );
        }
        if path == "/session" {
            return Ok(value);
        }
        Ok(value)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.request("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn dechunk(mut b: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("bad chunk")?;
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..line_end]).trim(), 16)?;
        b = &b[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

fn base64_decode(s: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => bail!("not base64: {:?}", c as char),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}
