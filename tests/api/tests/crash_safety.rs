//! SIGKILL `meshplane serve` in the middle of a stream of API writes
//! (`py/crash.py`, four writers): after the restart on the same store every
//! write that got a 200 is there, and every write that is there is whole.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use meshplane_api_tests::tools::{check_script, script_command};
use meshplane_api_tests::{run_script, Server, ServerOptions};

/// Acknowledged writes to wait for before the kill.
const ACKS_BEFORE_KILL: usize = 60;

#[test]
fn sigkill_during_writes_loses_nothing_acknowledged() {
    let mut server = Server::start(ServerOptions::default()).unwrap();
    let mut writer = script_command("crash.py", &["write"], &server.script_env())
        .unwrap()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(writer.stdout.take().unwrap()).lines();
    let mut acked = Vec::new();
    let started = Instant::now();
    while acked.len() <= ACKS_BEFORE_KILL {
        let Some(line) = lines.next() else {
            panic!(
                "the writer stopped after {} acknowledged writes\n--- server log\n{}",
                acked.len(),
                server.log()
            );
        };
        acked.push(line.unwrap());
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "only {} writes in 120 s",
            acked.len()
        );
    }
    // Writes are in flight on four connections now.
    server.kill();
    acked.extend(lines.map(Result::unwrap));
    writer.wait().unwrap();
    assert_eq!(acked.last().map(String::as_str), Some("done"));
    let ack_file = server.dir.path().join("acked.txt");
    std::fs::write(&ack_file, acked.join("\n")).unwrap();

    server.restart().unwrap();
    let path = ack_file.display().to_string();
    let out = run_script("crash.py", &["check", &path], &server.script_env()).unwrap();
    let stdout = check_script("crash.py check", &out)
        .map_err(|e| format!("{e:#}\n--- server log\n{}", server.log()))
        .unwrap();
    print!("{stdout}");
}
