//! `causeway-bench`: measures a release `causeway` server the way clients use it,
//! over real HTTP and WebSocket on loopback, and prints a table (see
//! BENCHMARKS.md for the figures and how they were taken).
//!
//! It builds nothing: build the server first with `cargo build --release -p
//! server`, then `cargo run --release -p causeway-bench [-- OPTIONS]`. Each run
//! starts the binary on a fresh temporary data folder (SQLite, the default) or a
//! fresh PostgreSQL database (`--postgres`), makes its users through the admin
//! API, and stops the server at the end.
//!
//! Measured: send→receive latency (one sender over HTTP, one receiver on a
//! WebSocket); persisted messages per second with 8 senders into one chat,
//! waiting for each acknowledgement and with 32 sends in flight each; fan-out
//! of one message to 1,000 connected members; server memory per idle
//! WebSocket; (e) between two servers, send→receive latency and the delivery
//! of a backlog queued while the receiving server was down; and, to read the
//! rest by, the disk's fsync latency.

mod api;
mod conference;
mod federation;
mod server;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use api::User;
use futures_util::stream::{FuturesUnordered, StreamExt};
use server::Server;

const USAGE: &str = "\
causeway-bench [OPTIONS]

  --server PATH        the causeway binary (default: $CARGO_TARGET_DIR/release/causeway
                       or target/release/causeway)
  --postgres [URL]     run on a fresh PostgreSQL database made through URL
                       (default postgres://postgres@127.0.0.1:5432/postgres)
  --latency N          send→receive samples (default 3000)
  --seconds S          length of each throughput run (default 10)
  --members N          fan-out chat size, all connected (default 1000)
  --fanout N           fan-out messages measured (default 20)
  --idle N             idle WebSockets for the memory figure (default 10000)
  --backlog N          messages queued while the guest server is down (default 10000)
  --conference N,N     listeners per conference size for (g) (default 10,50,100,200,400)
  --only PHASES        run only these of a, b, c, d, e, f, g (e.g. --only ab); g needs no
                       server binary (the forwarding unit runs in the benchmark's process)";

struct Options {
    binary: PathBuf,
    postgres: Option<String>,
    latency_samples: usize,
    seconds: f64,
    members: usize,
    fanout_messages: usize,
    idle: usize,
    backlog: usize,
    conference: Vec<usize>,
    phases: String,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        binary: server::default_binary(),
        postgres: None,
        latency_samples: 3000,
        seconds: 10.0,
        members: 1000,
        fanout_messages: 20,
        idle: 10_000,
        backlog: 10_000,
        conference: vec![10, 50, 100, 200, 400],
        phases: "abcdefg".to_owned(),
    };
    let mut args = std::env::args().skip(1).peekable();
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--server" => options.binary = value()?.into(),
            "--postgres" => {
                options.postgres = Some(String::new());
            }
            "--latency" => options.latency_samples = value()?.parse()?,
            "--seconds" => options.seconds = value()?.parse()?,
            "--members" => options.members = value()?.parse()?,
            "--fanout" => options.fanout_messages = value()?.parse()?,
            "--idle" => options.idle = value()?.parse()?,
            "--backlog" => options.backlog = value()?.parse()?,
            "--conference" => {
                options.conference = value()?
                    .split(',')
                    .map(|n| n.trim().parse::<usize>())
                    .collect::<Result<_, _>>()?;
            }
            "--only" => options.phases = value()?,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            url if options.postgres.as_deref() == Some("") && url.starts_with("postgres") => {
                options.postgres = Some(url.to_owned());
            }
            other => bail!("unknown argument {other}\n\n{USAGE}"),
        }
    }
    if options.postgres.as_deref() == Some("") {
        options.postgres = Some("postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    }
    if options.members < 2 || options.members > 1000 {
        bail!("--members is from 2 to 1000 (a chat's limit)");
    }
    Ok(options)
}

/// Raises the open-file limit to its hard maximum; the server, a child, inherits it.
fn raise_file_limit() -> anyhow::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid resource and a pointer to a live struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            bail!("getrlimit: {}", std::io::Error::last_os_error());
        }
        limit.rlim_cur = limit.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
            bail!("setrlimit: {}", std::io::Error::last_os_error());
        }
    }
    Ok(limit.rlim_cur)
}

/// Milliseconds at quantile `q` (nearest rank) of sorted samples.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn sorted(mut samples: Vec<f64>) -> Vec<f64> {
    samples.sort_by(f64::total_cmp);
    samples
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The results, printed as a table at the end.
#[derive(Default)]
struct Report {
    rows: Vec<(String, String, String)>,
}

impl Report {
    fn add(&mut self, what: &str, value: String, target: &str) {
        println!("  {what}: {value}");
        self.rows.push((what.to_owned(), value, target.to_owned()));
    }

    fn print(&self) {
        let w0 = self.rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let w1 = self
            .rows
            .iter()
            .map(|r| r.1.chars().count())
            .max()
            .unwrap_or(0);
        println!();
        for (what, value, target) in &self.rows {
            println!("| {what:<w0$} | {value:<w1$} | {target} |");
        }
    }
}

fn main() -> anyhow::Result<()> {
    let options = options()?;
    let files = raise_file_limit()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(options, files))
}

async fn run(mut options: Options, files: u64) -> anyhow::Result<()> {
    // (g) needs no server binary: the forwarding unit runs in this process.
    if options.phases.contains('g') {
        println!("Machine: {}", machine());
        let mut report = Report::default();
        conference::run(&options.conference, &mut report).await?;
        report.print();
        options.phases = options.phases.replace('g', "");
        if options.phases.is_empty() {
            return Ok(());
        }
    }
    if !options.binary.exists() {
        bail!(
            "{} does not exist: build it first with `cargo build --release -p server`",
            options.binary.display()
        );
    }
    // Servers start in their own data folders: a relative path would not be found there.
    options.binary = std::fs::canonicalize(&options.binary)?;
    println!("Machine: {}", machine());
    println!("Open-file limit: {files}");
    let server = Server::start(&options.binary, options.postgres.as_deref())?;
    let backend = match &options.postgres {
        Some(_) => "PostgreSQL (synchronous_commit as configured on the server; default on)",
        None => "SQLite, WAL, synchronous = FULL",
    };
    println!(
        "Server: {} (pid {}) at {}, {backend}, data in {}",
        options.binary.display(),
        server.pid(),
        server.base,
        server.data.path().display()
    );
    let mut report = Report::default();

    for (append, what) in [
        (true, "disk fsync, 4 KiB appended (200×)"),
        (false, "disk fsync, 4 KiB overwritten (200×)"),
    ] {
        let fsync = sorted(server::fsync_latencies(server.data.path(), 200, append)?);
        report.add(
            what,
            format!(
                "p50 {:.2} ms, p99 {:.2} ms, mean {:.2} ms",
                quantile(&fsync, 0.5),
                quantile(&fsync, 0.99),
                fsync.iter().sum::<f64>() / fsync.len() as f64
            ),
            "—",
        );
    }

    // People: the administrator and `members - 1` users (10 without the
    // fan-out), all signed in.
    let run = |phase: char| options.phases.contains(phase);
    let started = Instant::now();
    let admin = api::sign_in(
        &server.base,
        &server.server_name,
        "admin",
        &server.admin_password,
    )
    .await?;
    let people = if run('c') { options.members - 1 } else { 10 };
    let users = make_users(&server, &admin, people).await?;
    println!(
        "Set-up: {} users created and signed in in {:.1} s",
        users.len(),
        started.elapsed().as_secs_f64()
    );

    if run('a') {
        latency(&server, &users, options.latency_samples, &mut report).await?;
    }
    if run('b') {
        for depth in [1, 32] {
            throughput(&server, &users, depth, options.seconds, &mut report).await?;
        }
    }
    if run('c') {
        let mut everyone = vec![admin.clone()];
        everyone.extend(users.iter().cloned());
        fan_out(&server, &everyone, options.fanout_messages, &mut report).await?;
    }
    server.stop()?;
    if run('d') {
        idle_memory(&options, options.idle, &mut report).await?;
    }
    if run('f') {
        sign_in_memory(&options, &mut report).await?;
    }
    if run('e') {
        let samples = options.latency_samples.min(1000);
        federation::run(&options.binary, samples, options.backlog, &mut report).await?;
    }

    println!("\nBackend: {backend}");
    report.print();
    Ok(())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or_else(
            || "?".to_owned(),
            |kib| format!("{:.1} GiB", kib as f64 / 1_048_576.0),
        );
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores, {cpu}, {memory} RAM, Linux {}",
        kernel.trim()
    )
}

/// Creates `count` users through the admin API and signs each in. Each costs
/// two argon2 hashes on the server, so a few at a time keep both cores busy.
async fn make_users(server: &Server, admin: &User, count: usize) -> anyhow::Result<Vec<User>> {
    let mut pending = futures_util::stream::iter((0..count).map(|i| {
        let admin = admin.clone();
        let (base, name) = (server.base.clone(), server.server_name.clone());
        async move {
            let login = format!("u{i:04}");
            api::create_user(&admin, &base, &login).await?;
            api::sign_in(&base, &name, &login, api::PASSWORD).await
        }
    }))
    .buffered(4);
    let mut users = Vec::with_capacity(count);
    while let Some(user) = pending.next().await {
        users.push(user?);
    }
    Ok(users)
}

/// (a) One sender posts, one receiver listens; one message at a time, timed
/// from the start of the POST to the push's arrival on the receiver's socket.
async fn latency(
    server: &Server,
    users: &[User],
    samples: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    println!("\n(a) send→receive latency, {samples} sequential messages");
    let (sender, receiver) = (&users[0], &users[1]);
    let chat = api::create_chat(
        sender,
        &server.base,
        "Latency",
        std::slice::from_ref(&receiver.id),
    )
    .await?;
    let url = api::messages_url(&server.base, chat);
    let mut socket = api::connect(&server.addr, &receiver.cookie).await?;
    let warm_up = samples / 10;
    let mut received = Vec::with_capacity(samples);
    let mut acked = Vec::with_capacity(samples);
    for i in 0..warm_up + samples {
        let client_id = format!("lat-{i}");
        let started = Instant::now();
        let post = async {
            api::send(sender, &url, &client_id).await?;
            anyhow::Ok(started.elapsed())
        };
        let push = async {
            loop {
                let frame = api::next_text(&mut socket).await?;
                if api::pushed_client_id(&frame) == Some(client_id.as_str()) {
                    return anyhow::Ok(started.elapsed());
                }
            }
        };
        let (ack, push) = tokio::try_join!(post, push)?;
        if i >= warm_up {
            acked.push(ms(ack));
            received.push(ms(push));
        }
    }
    api::close(socket).await;
    let received = sorted(received);
    let acked = sorted(acked);
    report.add(
        "(a) send→receive latency",
        format!(
            "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({samples} samples)",
            quantile(&received, 0.5),
            quantile(&received, 0.99),
            received.last().copied().unwrap_or(f64::NAN)
        ),
        "p99 < 5 ms",
    );
    report.add(
        "(a) send→acknowledgement (HTTP 201)",
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            quantile(&acked, 0.5),
            quantile(&acked, 0.99)
        ),
        "—",
    );
    Ok(())
}

/// (b) Eight senders into one chat for `seconds`, each keeping `depth` sends in
/// flight (1: waiting for every acknowledgement). Counts acknowledged messages
/// and checks that exactly that many were stored.
async fn throughput(
    server: &Server,
    users: &[User],
    depth: usize,
    seconds: f64,
    report: &mut Report,
) -> anyhow::Result<()> {
    const SENDERS: usize = 8;
    let mode = if depth == 1 {
        "waiting for each ack".to_owned()
    } else {
        format!("{depth} in flight each")
    };
    println!("\n(b) persisted messages/s, {SENDERS} senders into one chat, {mode}, {seconds} s");
    let senders = &users[2..2 + SENDERS];
    let others: Vec<String> = senders[1..].iter().map(|u| u.id.clone()).collect();
    let chat = api::create_chat(
        &senders[0],
        &server.base,
        &format!("Throughput {depth}"),
        &others,
    )
    .await?;
    let url = Arc::new(api::messages_url(&server.base, chat));
    let before = api::last_seq(&senders[0], &server.base, chat).await?;
    let cpu_before = server.cpu_seconds()?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for (s, sender) in senders.iter().enumerate() {
        let (sender, url) = (sender.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut in_flight = FuturesUnordered::new();
            let mut sent = 0usize;
            let mut acked = 0usize;
            loop {
                while in_flight.len() < depth && Instant::now() < deadline {
                    let (sender, url) = (sender.clone(), url.clone());
                    let client_id = format!("tp{depth}-{s}-{sent}");
                    sent += 1;
                    in_flight.push(async move { api::send(&sender, &url, &client_id).await });
                }
                match in_flight.next().await {
                    Some(result) => {
                        result?;
                        acked += 1;
                    }
                    None => return anyhow::Ok(acked),
                }
            }
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = server.cpu_seconds()? - cpu_before;
    let stored = api::last_seq(&senders[0], &server.base, chat).await? - before;
    if stored != total as i64 {
        bail!("{total} sends were acknowledged but {stored} stored");
    }
    report.add(
        &format!("(b) persisted msgs/s, 8 senders, {mode}"),
        format!(
            "{:.0} msgs/s ({total} in {elapsed:.1} s, all stored; server CPU {:.2} cores, {:.0} µs/msg)",
            total as f64 / elapsed,
            cpu / elapsed,
            cpu * 1e6 / total as f64
        ),
        if depth == 1 { "—" } else { "≥ 5,000/s" },
    );
    Ok(())
}

/// (c) A chat whose every member is connected; one message at a time, timed
/// from the start of its POST to its arrival on each member's socket.
async fn fan_out(
    server: &Server,
    everyone: &[User],
    messages: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let members = everyone.len();
    println!("\n(c) fan-out of one message to {members} connected members, {messages} messages");
    let owner = &everyone[0];
    let others: Vec<String> = everyone[1..].iter().map(|u| u.id.clone()).collect();
    let chat = api::create_chat(owner, &server.base, "Everyone", &others).await?;
    let url = api::messages_url(&server.base, chat);
    let (arrivals, mut arrived) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    let stop = tokio::sync::watch::channel(false);
    let mut readers = Vec::new();
    let mut connecting = futures_util::stream::iter(
        everyone
            .iter()
            .map(|u| api::connect(&server.addr, &u.cookie)),
    )
    .buffer_unordered(32);
    while let Some(socket) = connecting.next().await {
        let mut socket = socket?;
        let arrivals = arrivals.clone();
        let mut stop = stop.1.clone();
        readers.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    frame = api::next_text(&mut socket) => {
                        let frame = frame?;
                        let at = Instant::now();
                        if let Some(n) = api::pushed_client_id(&frame).and_then(|id| id.strip_prefix("fan-")) {
                            let _ = arrivals.send((n.parse()?, at));
                        }
                    }
                    _ = stop.changed() => {
                        api::close(socket).await;
                        return anyhow::Ok(());
                    }
                }
            }
        }));
    }
    drop(connecting);
    println!("  {} sockets connected; sending", readers.len());
    let warm_up = 2;
    let mut deliveries = Vec::new();
    let mut slowest = Vec::new();
    for n in 0..warm_up + messages {
        let started = Instant::now();
        api::send(owner, &url, &format!("fan-{n}")).await?;
        let mut last = Duration::ZERO;
        for _ in 0..members {
            let (m, at) = tokio::time::timeout(api::TIMEOUT, arrived.recv())
                .await
                .context("a member's push did not arrive")?
                .context("the readers stopped")?;
            if m != n {
                bail!("push of message {m} arrived while waiting for {n}");
            }
            let took = at.duration_since(started);
            last = last.max(took);
            if n >= warm_up {
                deliveries.push(ms(took));
            }
        }
        if n >= warm_up {
            slowest.push(ms(last));
        }
    }
    let _ = stop.0.send(true);
    for reader in readers {
        reader.await??;
    }
    // The chat's detail (members with names, roles and presence), as a client
    // opening the chat reads it.
    let mut details = Vec::new();
    for n in 0..110 {
        let started = Instant::now();
        api::last_seq(owner, &server.base, chat).await?;
        if n >= 10 {
            details.push(ms(started.elapsed()));
        }
    }
    let details = sorted(details);
    report.add(
        &format!("(c) chat detail with {members} members (GET /chats/{{id}})"),
        format!(
            "p50 {:.1} ms, p99 {:.1} ms ({} requests)",
            quantile(&details, 0.5),
            quantile(&details, 0.99),
            details.len()
        ),
        "—",
    );
    let deliveries = sorted(deliveries);
    let slowest = sorted(slowest);
    report.add(
        &format!("(c) fan-out to {members} members, per delivery"),
        format!(
            "p50 {:.1} ms, p99 {:.1} ms ({} deliveries)",
            quantile(&deliveries, 0.5),
            quantile(&deliveries, 0.99),
            deliveries.len()
        ),
        "p99 < 50 ms",
    );
    report.add(
        "(c) fan-out, last member reached",
        format!(
            "p50 {:.1} ms, max {:.1} ms ({messages} messages)",
            quantile(&slowest, 0.5),
            slowest.last().copied().unwrap_or(f64::NAN)
        ),
        "—",
    );
    Ok(())
}

/// (d) The resident memory of a freshly started server before and after `count`
/// idle sockets, opened in five steps with one session. A fresh server, because
/// the one measured above holds memory its allocator kept from the set-up's
/// 2,000 argon2 hashes (19 MiB each), which new sockets would reuse unseen. The
/// step from half to all sockets shows the cost of one more socket on its own.
/// (f) A fresh server's memory through 1,000 sign-ins, 100 at a time (each an
/// argon2 hash of 19 MiB working memory): idle, right after, and 10 s later.
async fn sign_in_memory(options: &Options, report: &mut Report) -> anyhow::Result<()> {
    const SIGN_INS: usize = 1000;
    const AT_ONCE: usize = 100;
    println!(
        "\n(f) server memory through {SIGN_INS} sign-ins, {AT_ONCE} at a time (a fresh server)"
    );
    let server = Server::start(&options.binary, options.postgres.as_deref())?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let fresh = server.rss_kib()?;
    let admin = api::sign_in(
        &server.base,
        &server.server_name,
        "admin",
        &server.admin_password,
    )
    .await?;
    // One person signs in once at a time (at most a threshold's worth of one
    // account's attempts are let through at once), all from this one address:
    // the address's threshold is raised so that it lets a hundred through.
    let security = format!("{}/api/v1/admin/settings/security", server.base);
    let mut settings: serde_json::Value = admin.http.get(&security).send().await?.json().await?;
    settings["address_threshold"] = serde_json::json!(10_000);
    let put = admin.http.put(&security).json(&settings).send().await?;
    if !put.status().is_success() {
        bail!("raising the address threshold: {}", put.text().await?);
    }
    let logins: Vec<String> = (0..AT_ONCE).map(|i| format!("signer{i}")).collect();
    for login in &logins {
        api::create_user(&admin, &server.base, login).await?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = server.rss_kib()?;
    let started = Instant::now();
    let mut peak = idle;
    let mut signing_in = futures_util::stream::iter(logins.iter().map(|login| {
        let (base, name) = (&server.base, &server.server_name);
        async move {
            for _ in 0..SIGN_INS / AT_ONCE {
                api::sign_in(base, name, login, api::PASSWORD).await?;
            }
            anyhow::Ok(())
        }
    }))
    .buffer_unordered(AT_ONCE);
    let mut sampling = tokio::time::interval(Duration::from_millis(250));
    let mut finished = 0;
    while finished < AT_ONCE {
        tokio::select! {
            signed_in = signing_in.next() => match signed_in {
                Some(signed_in) => { signed_in?; finished += 1; }
                None => break,
            },
            _ = sampling.tick() => peak = peak.max(server.rss_kib()?),
        }
    }
    drop(signing_in);
    let took = started.elapsed().as_secs_f64();
    let after = server.rss_kib()?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let settled = server.rss_kib()?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "  fresh {:.1} MiB; with {AT_ONCE} people made (the hashing pool's memory now in use) {:.1} MiB, \
         peak {:.1} MiB, after {:.1} MiB, 10 s later {:.1} MiB; {took:.1} s ({:.0} sign-ins/s)",
        mib(fresh),
        mib(idle),
        mib(peak),
        mib(after),
        mib(settled),
        SIGN_INS as f64 / took
    );
    report.add(
        &format!("(f) server RSS through {SIGN_INS} sign-ins, {AT_ONCE} at a time"),
        format!(
            "fresh {:.1} MiB, before {:.1} MiB, peak {:.1} MiB, after {:.1} MiB, 10 s later {:.1} MiB ({:.0} sign-ins/s)",
            mib(fresh),
            mib(idle),
            mib(peak),
            mib(after),
            mib(settled),
            SIGN_INS as f64 / took
        ),
        "< 100 MiB, back near idle",
    );
    server.stop()
}

async fn idle_memory(options: &Options, count: usize, report: &mut Report) -> anyhow::Result<()> {
    println!("\n(d) server memory with {count} idle WebSockets (a fresh server)");
    let server = Server::start(&options.binary, options.postgres.as_deref())?;
    let admin = api::sign_in(
        &server.base,
        &server.server_name,
        "admin",
        &server.admin_password,
    )
    .await?;
    // One socket first, so that what every socket shares is in the baseline.
    let first = api::connect(&server.addr, &admin.cookie).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = server.rss_kib()?;
    println!("  1 socket: RSS {:.1} MiB", before as f64 / 1024.0);
    let started = Instant::now();
    let mut sockets = vec![first];
    let mut rss = Vec::new();
    for step in 1..=5 {
        let target = count * step / 5;
        let mut connecting = futures_util::stream::iter(
            (sockets.len() - 1..target).map(|_| api::connect(&server.addr, &admin.cookie)),
        )
        .buffer_unordered(64);
        while let Some(socket) = connecting.next().await {
            sockets.push(socket?);
        }
        drop(connecting);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = server.rss_kib()?;
        println!(
            "  {target} more sockets: RSS {:.1} MiB",
            now as f64 / 1024.0
        );
        rss.push((target, now));
    }
    println!(
        "  opened in {:.1} s (with the pauses to measure)",
        started.elapsed().as_secs_f64()
    );
    let (all, after) = rss[4];
    let (half, middle) = rss[1];
    let per = after.saturating_sub(before) as f64 / all as f64;
    let marginal = after.saturating_sub(middle) as f64 / (all - half) as f64;
    report.add(
        &format!("(d) server RSS, {count} idle WebSockets"),
        format!(
            "{:.1} MiB → {:.1} MiB: {per:.1} KiB per connection ({marginal:.1} KiB from {half} to {all})",
            before as f64 / 1024.0,
            after as f64 / 1024.0
        ),
        "< 20 KB per connection",
    );
    drop(sockets);
    server.stop()
}
