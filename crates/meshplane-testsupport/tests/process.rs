//! Children die with their guard; waits fail loudly.

use std::process::Command;
use std::time::Duration;

use meshplane_testsupport::binaries::{locate, MissingProgram, Program};
use meshplane_testsupport::process::ChildProcess;
use meshplane_testsupport::wait::{wait_for, wait_for_child};

fn alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; a reaped child has none.
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn a_child_is_killed_and_reaped_on_drop() {
    let child = ChildProcess::spawn("sleep", Command::new("sleep").arg("300"));
    let pid = child.id();
    assert!(alive(pid));
    drop(child);
    assert!(!alive(pid), "process {pid} survived its guard");
}

#[test]
#[should_panic(expected = "sh exited (exit status: 3) while waiting for a port")]
fn waiting_on_a_child_that_exits_fails_at_once_with_its_log() {
    let dir = std::env::temp_dir().join(format!("mp-testsupport-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = ChildProcess::spawn_logged(
        "sh",
        Command::new("sh").args(["-c", "echo bind failed >&2; exit 3"]),
        &dir.join("sh.log"),
    );
    wait_for_child("a port", Duration::from_secs(60), &mut child, || None::<()>);
}

#[test]
#[should_panic(expected = "timed out after 100ms waiting for never")]
fn a_wait_times_out_naming_what_it_waited_for() {
    wait_for("never", Duration::from_millis(100), || None::<()>);
}

const PROBE: Program = Program {
    name: "probe",
    env: "MESHPLANE_TESTSUPPORT_PROBE",
    venv: &[".venv/lib/*/no-such-dir/probe"],
    on_path: Some("meshplane-no-such-program"),
    install: "install the probe",
};

#[test]
fn a_missing_program_says_what_to_install_and_a_bad_override_is_refused() {
    // Only this test reads PROBE.env.
    std::env::remove_var(PROBE.env);
    let err = locate(&PROBE).expect_err("nothing to find");
    assert!(matches!(err, MissingProgram::NotFound { .. }));
    let text = err.to_string();
    assert!(text.contains("install the probe"), "{text}");
    assert!(text.contains("MESHPLANE_TESTSUPPORT_PROBE"), "{text}");

    std::env::set_var(PROBE.env, "/nonexistent/probe");
    let err = locate(&PROBE).expect_err("not executable");
    std::env::set_var(PROBE.env, "/bin/sh");
    let found = locate(&PROBE);
    std::env::remove_var(PROBE.env);
    assert!(matches!(err, MissingProgram::BadOverride { .. }), "{err}");
    assert_eq!(found.unwrap(), std::path::PathBuf::from("/bin/sh"));
}
