//! The server under test: the release `causeway` binary as a child process on a
//! fresh data folder (and, with `--postgres`, a fresh database) and a free
//! loopback port.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};

pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// `127.0.0.1:PORT`
    pub addr: String,
    pub server_name: String,
    pub admin_password: String,
    postgres: Option<PgDatabase>,
    pub data: tempfile::TempDir,
}

/// What a started `causeway serve` printed.
struct Banner {
    addr: String,
    server_name: String,
    admin_password: Option<String>,
}

/// Starts `causeway serve` on `data`, listening on `listen`, and reads its banner.
fn spawn(
    binary: &Path,
    data: &Path,
    listen: &str,
    name: Option<&str>,
    database: Option<&str>,
) -> anyhow::Result<(Child, Banner)> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.join("server.log"))?;
    let mut command = Command::new(binary);
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CAUSEWAY_DATA_DIR", data)
        .env("CAUSEWAY_LISTEN", listen)
        .env("RUST_LOG", "warn")
        .current_dir(data)
        .stdout(Stdio::piped())
        .stderr(log);
    if let Some(name) = name {
        command.env("CAUSEWAY_SERVER_NAME", name);
    }
    if let Some(url) = database {
        command.env("CAUSEWAY_DATABASE__URL", url);
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let stdout = child.stdout.take().context("the server's stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let (mut addr, mut server_name, mut admin_password) = (None, None, None);
    for line in lines.by_ref() {
        let line = line?;
        if let Some((name, listening)) = line.split_once("  ·  Listening on http://") {
            addr = Some(listening.trim().to_owned());
            server_name = name.strip_prefix("Server name: ").map(str::to_owned);
        }
        if let Some(password) = line.trim().strip_prefix("Password: ") {
            admin_password = Some(password.to_owned());
        }
        if line.starts_with("Press Ctrl+C") {
            break;
        }
    }
    // Keep reading, so that nothing the server prints meets a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let (Some(addr), Some(server_name)) = (addr, server_name) else {
        let log = std::fs::read_to_string(data.join("server.log")).unwrap_or_default();
        bail!("the server did not print its banner:\n{log}");
    };
    Ok((
        child,
        Banner {
            addr,
            server_name,
            admin_password,
        },
    ))
}

impl Server {
    pub fn start(binary: &Path, postgres: Option<&str>) -> anyhow::Result<Self> {
        Self::start_named(binary, postgres, None)
    }

    /// A server with its own name (`corp`, `guest`), for federation.
    pub fn start_named(
        binary: &Path,
        postgres: Option<&str>,
        name: Option<&str>,
    ) -> anyhow::Result<Self> {
        let data = tempfile::Builder::new()
            .prefix("causeway-bench-")
            .tempdir()?;
        let postgres = postgres.map(PgDatabase::create).transpose()?;
        let database = postgres.as_ref().map(|db| db.url.clone());
        let (child, banner) = spawn(
            binary,
            data.path(),
            "127.0.0.1:0",
            name,
            database.as_deref(),
        )?;
        let admin_password = banner
            .admin_password
            .context("a first start prints the administrator's password")?;
        Ok(Self {
            child,
            base: format!("http://{}", banner.addr),
            addr: banner.addr,
            server_name: banner.server_name,
            admin_password,
            postgres,
            data,
        })
    }

    /// Stops the server (SIGTERM) and waits until it has exited.
    pub fn halt(&mut self) -> anyhow::Result<()> {
        // SAFETY: kill(2) with a child's pid and a valid signal number.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        self.child.wait()?;
        Ok(())
    }

    /// Starts the halted server again: same data, same address, same name.
    pub fn resume(&mut self, binary: &Path) -> anyhow::Result<()> {
        let database = self.postgres.as_ref().map(|db| db.url.clone());
        let (child, _) = spawn(
            binary,
            self.data.path(),
            &self.addr,
            Some(&self.server_name),
            database.as_deref(),
        )?;
        self.child = child;
        Ok(())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's resident memory, in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("VmRSS in /proc/<pid>/status")
    }

    /// CPU time the server has used so far (user + system), in seconds.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        cpu_seconds_in(&format!("/proc/{}/stat", self.pid()))
    }

    pub fn stop(mut self) -> anyhow::Result<()> {
        // SIGTERM, then wait: the server closes its sockets and the database.
        // SAFETY: kill(2) with a child's pid and a valid signal number.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        self.child.wait()?;
        if let Some(db) = self.postgres.take() {
            db.drop_now()?;
        }
        Ok(())
    }
}

impl Drop for Server {
    /// A run that ends early (an error) leaves no server behind.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A PostgreSQL database for one run, made and dropped with `psql`.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn create(admin_url: &str) -> anyhow::Result<Self> {
        let name = format!("causeway_bench_{}", std::process::id());
        psql(
            admin_url,
            &format!("drop database if exists {name} with (force)"),
        )?;
        psql(admin_url, &format!("create database {name}"))?;
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => bail!("the PostgreSQL URL must end with /database"),
        };
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
        })
    }

    fn drop_now(self) -> anyhow::Result<()> {
        psql(
            &self.admin_url,
            &format!("drop database if exists {} with (force)", self.name),
        )
    }
}

fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let status = Command::new("psql")
        .args([url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .status()
        .context("running psql")?;
    if !status.success() {
        bail!("psql failed: {sql}");
    }
    Ok(())
}

/// The release binary: `--server`, else `$CARGO_TARGET_DIR/release/causeway`,
/// else `target/release/causeway`.
pub fn default_binary() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from);
    target.join("release").join("causeway")
}

/// Latency of a 4 KiB write made durable with fsync, in milliseconds, `rounds`
/// times, on the data folder's file system: appended (the file grows, so its
/// size is journaled too) or overwriting the same block (as SQLite's WAL does
/// once it has reached its size).
pub fn fsync_latencies(dir: &Path, rounds: usize, append: bool) -> anyhow::Result<Vec<f64>> {
    use std::io::{Seek, Write};
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path)?;
    let block = [0x5au8; 4096];
    if !append {
        file.write_all(&block)?;
        file.sync_all()?;
    }
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        if !append {
            file.rewind()?;
        }
        let started = Instant::now();
        file.write_all(&block)?;
        file.sync_all()?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    drop(file);
    std::fs::remove_file(path)?;
    Ok(samples)
}

/// The CPU time (user + system, in seconds) of the process or thread whose
/// `stat` file is at `path` (`/proc/<pid>/stat`, `/proc/self/task/<tid>/stat`).
pub fn cpu_seconds_in(path: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(path)?;
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("the stat file")?
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Ok(ticks as f64 / per_second.max(1) as f64)
}
