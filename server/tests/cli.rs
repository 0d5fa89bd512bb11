//! The `causeway` binary as an operator uses it: first start prints the address
//! and the administrator's one-time password; `admin create` adds another;
//! SIGTERM stops it cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_causeway");

fn causeway(data: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CAUSEWAY_DATA_DIR", data)
        .env("CAUSEWAY_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .current_dir(data);
    command
}

/// Reads stdout lines until `done` says stop or ten seconds pass.
fn read_until(reader: &mut impl BufRead, mut done: impl FnMut(&str) -> bool) -> Vec<String> {
    let started = Instant::now();
    let mut lines = Vec::new();
    while started.elapsed() < Duration::from_secs(10) {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let stop = done(&line);
        lines.push(line);
        if stop {
            break;
        }
    }
    lines
}

#[test]
fn first_start_prints_the_address_and_a_one_time_admin_password() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = causeway(dir.path())
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let lines = read_until(&mut out, |l| l.starts_with("Press Ctrl+C"));
    let text = lines.concat();
    assert!(text.contains("Listening on http://127.0.0.1:"), "{text}");
    assert!(text.contains("Login:    admin"), "{text}");
    let password = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("Password: "))
        .expect("the password is printed")
        .trim()
        .to_owned();
    assert_eq!(password.len(), 20);

    // SIGTERM: graceful shutdown, exit code 0.
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exits cleanly on SIGTERM: {status:?}");

    // Second start: the administrator exists, no password is printed again.
    let mut child = causeway(dir.path()).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let text = read_until(&mut out, |l| l.starts_with("Press Ctrl+C")).concat();
    assert!(text.contains("Listening on"), "{text}");
    assert!(!text.contains("Password:"), "{text}");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        dir.path().join("causeway.db").exists(),
        "SQLite lives in the data folder"
    );
    assert!(
        dir.path().join("files").is_dir(),
        "files live in the data folder"
    );
}

#[test]
fn admin_create_adds_an_administrator() {
    let dir = tempfile::tempdir().unwrap();
    let output = causeway(dir.path())
        .args([
            "admin",
            "create",
            "--login",
            "wolf",
            "--display-name",
            "Wolf",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("Administrator wolf@localhost created."),
        "{stdout}"
    );
    assert!(stdout.contains("Password: "), "{stdout}");

    let output = causeway(dir.path())
        .args(["admin", "create", "--login", "wolf"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("taken"));

    let output = causeway(dir.path())
        .args(["admin", "create", "--login", "Bad Login"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid login"));

    let mut child = causeway(dir.path())
        .args(["admin", "create", "--login", "short", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"tooshort\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 12"));

    let output = causeway(dir.path()).arg("migrate").output().unwrap();
    assert!(output.status.success());
}

#[test]
fn a_bad_configuration_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let output = causeway(dir.path())
        .env("CAUSEWAY_SERVER_NAME", "not a server name")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("configuration"), "{stderr}");
}

/// The fingerprint `causeway key …` printed.
fn fingerprint_of(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("Fingerprint: "))
        .unwrap_or_else(|| panic!("no fingerprint in {text}"))
        .trim()
        .to_owned()
}

#[test]
fn key_show_prints_the_fingerprint_and_rotate_makes_a_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let shown = fingerprint_of(&causeway(dir.path()).args(["key", "show"]).output().unwrap());
    assert_eq!(shown.len(), 64);
    assert!(shown.bytes().all(|b| b.is_ascii_hexdigit()));
    // The same key on the next look.
    let again = fingerprint_of(&causeway(dir.path()).args(["key", "show"]).output().unwrap());
    assert_eq!(again, shown);
    let output = causeway(dir.path())
        .args(["key", "rotate"])
        .output()
        .unwrap();
    let rotated = fingerprint_of(&output);
    assert_ne!(rotated, shown);
    assert!(String::from_utf8_lossy(&output.stdout).contains("stays valid for 7 days"));
    let now = fingerprint_of(&causeway(dir.path()).args(["key", "show"]).output().unwrap());
    assert_eq!(now, rotated);
}
