//! The `causeway` binary as an operator uses it: first start prints the address
//! and the administrator's one-time password; `admin create` adds another;
//! SIGTERM stops it cleanly; a second server on the same database is refused.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;

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

/// The server's own message when the database is taken (see `storage::instance`).
const ALREADY_RUNNING: &str = "another Causeway server is already running on this database";

/// Starts `causeway serve` on `data` (and `database_url`, when given) and waits
/// for its banner; panics with its output if it does not get there.
fn serving(data: &std::path::Path, database_url: Option<&str>) -> std::process::Child {
    let mut command = causeway(data);
    if let Some(url) = database_url {
        command.env("CAUSEWAY_DATABASE__URL", url);
    }
    let mut child = command
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let text = read_until(&mut out, |l| l.starts_with("Press Ctrl+C")).concat();
    assert!(text.contains("Press Ctrl+C"), "the server runs: {text}");
    // Keep reading its output, so that nothing it prints later meets a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    child
}

/// A second `causeway serve` on the same database fails at once, saying why,
/// while the first keeps serving; once the first has stopped, a new one starts.
fn second_server_is_refused(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let mut first = serving(dir.path(), database_url);

    // Another data folder, same database (PostgreSQL), or the same folder (SQLite).
    let other = tempfile::tempdir().unwrap();
    let second_dir = if database_url.is_some() {
        other.path()
    } else {
        dir.path()
    };
    let mut command = causeway(second_dir);
    if let Some(url) = database_url {
        command.env("CAUSEWAY_DATABASE__URL", url);
    }
    let output = command.arg("serve").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the second server is refused");
    assert!(stderr.contains(ALREADY_RUNNING), "{stderr}");
    assert!(stderr.contains("Stop that server"), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("Causeway is running"),
        "{output:?}"
    );
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first one still runs"
    );

    // Tools that do not serve may run beside the server.
    let mut command = causeway(second_dir);
    if let Some(url) = database_url {
        command.env("CAUSEWAY_DATABASE__URL", url);
    }
    let output = command.args(["key", "show"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");

    // Stopping the first gives the database back.
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(first.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(first.wait().unwrap().success());
    let mut again = serving(second_dir, database_url);
    again.kill().unwrap();
    again.wait().unwrap();

    // Killed, not stopped: the OS (or PostgreSQL) drops the claim all the same.
    let mut after_kill = serving(second_dir, database_url);
    after_kill.kill().unwrap();
    after_kill.wait().unwrap();
}

#[test]
fn a_second_server_on_one_sqlite_database_is_refused() {
    second_server_is_refused(None);
}

#[tokio::test]
async fn a_second_server_on_one_postgres_database_is_refused() {
    let Some(db) = common::PgDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || second_server_is_refused(Some(&url)))
        .await
        .unwrap();
    db.drop_now().await;
}

/// In one process (as tests run servers): a second start on a database in use is
/// refused; servers on other databases start beside it; a stopped server's
/// database can be served again.
#[tokio::test]
async fn in_process_servers_claim_their_own_database_only() {
    let first = common::TestServer::start().await;
    let error = server::server::prepare(first.config.clone())
        .await
        .err()
        .expect("a second server on the same data folder is refused");
    let message = format!("{error:#}");
    assert!(message.contains(ALREADY_RUNNING), "{message}");
    let other = common::TestServer::start().await;
    assert_eq!(
        other.client().me().await.status(),
        401,
        "the other one serves"
    );
    let stopped = first.stop_keeping_data().await;
    let first = stopped.start().await;
    assert_eq!(first.client().me().await.status(), 401, "served again");
    first.stop().await;
    other.stop().await;
}
