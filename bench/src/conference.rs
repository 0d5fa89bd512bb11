//! (g) One conference through the forwarding unit (`server::media`), loaded
//! with synthetic `str0m` participants far beyond what browsers on this
//! machine could drive: one speaker sends audio (a frame every 20 ms) and video
//! (30 frames a second, 1,000 bytes each) to N listeners over loopback UDP,
//! through real ICE, DTLS and SRTP. The unit runs on a thread of its own, so
//! its CPU time is read apart from the participants'.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use server::media::synthetic::{Sends, Synthetic};
use server::media::{RoomId, Setup, Sfu};
use tokio_util::sync::CancellationToken;

use crate::server::cpu_seconds_in;
use crate::{Report, quantile, sorted};

/// How long each size is measured once everyone receives.
const MEASURED: Duration = Duration::from_secs(10);

/// One size's figures.
struct Row {
    listeners: usize,
    /// Audio frames the speaker wrote during the window.
    written: usize,
    /// The share of them the worst-served listener missed.
    worst_loss: f64,
    delays_ms: Vec<f64>,
    /// CPU of the unit's thread, as a share of one core.
    cpu_share: f64,
}

/// Starts the unit on a thread and runtime of its own; its handle, the
/// thread's `stat` file and the token that stops it.
fn start_unit(max: usize) -> anyhow::Result<(Sfu, String, CancellationToken)> {
    let tasks = CancellationToken::new();
    let (sender, receiver) = std::sync::mpsc::channel();
    let token = tasks.clone();
    std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                let _ = sender.send(Err(anyhow::anyhow!(e)));
                return;
            }
        };
        // SAFETY: gettid(2) has no preconditions.
        let tid = unsafe { libc::syscall(libc::SYS_gettid) };
        runtime.block_on(async move {
            let mut setup = Setup::at("127.0.0.1:0".parse().expect("an address"));
            setup.max_participants = max;
            let started = Sfu::start(setup, token.clone()).await;
            let _ = sender.send(
                started
                    .map(|sfu| (sfu, format!("/proc/self/task/{tid}/stat")))
                    .map_err(Into::into),
            );
            token.cancelled().await;
        });
    });
    let (sfu, stat) = receiver.recv().context("the unit's thread")??;
    Ok((sfu, stat, tasks))
}

async fn measure(listeners: usize) -> anyhow::Result<Row> {
    let (sfu, stat, stop) = start_unit(listeners + 1)?;
    let epoch = Instant::now();
    let room = RoomId(1);
    let speaker = Synthetic::join(&sfu, room, Sends::AudioAndVideo, epoch).await?;
    let mut audience = Vec::with_capacity(listeners);
    for _ in 0..listeners {
        audience.push(Synthetic::join(&sfu, room, Sends::Nothing, epoch).await?);
    }
    // Everyone connected and receiving both tracks.
    let ready_by = Instant::now() + Duration::from_secs(60 + listeners as u64 / 2);
    while !audience.iter().all(|l| l.seen().tracks_with(10) == 2) {
        if Instant::now() > ready_by {
            let ready = audience
                .iter()
                .filter(|l| l.seen().tracks_with(10) == 2)
                .count();
            bail!("{listeners} listeners: only {ready} receive both tracks after a minute");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before: Vec<_> = audience.iter().map(|l| l.seen()).collect();
    let written_before = speaker.seen().sent.0;
    let cpu_before = cpu_seconds_in(&stat)?;
    let started = Instant::now();
    tokio::time::sleep(MEASURED).await;
    let written = speaker.seen().sent.0 - written_before;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds_in(&stat)? - cpu_before;
    // Frames in flight at the window's end still count as received if they
    // arrive within half a second.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut worst_loss: f64 = 0.0;
    let mut delays = Vec::new();
    for (listener, earlier) in audience.iter().zip(&before) {
        let now = listener.seen();
        let got = now.audio_frames - earlier.audio_frames;
        let loss = 1.0 - (got as f64 / written.max(1) as f64).min(1.0);
        worst_loss = worst_loss.max(loss);
        delays.extend(
            now.delays_us[earlier.delays_us.len()..]
                .iter()
                .map(|us| *us as f64 / 1000.0),
        );
    }
    drop(audience);
    drop(speaker);
    stop.cancel();
    Ok(Row {
        listeners,
        written,
        worst_loss,
        delays_ms: sorted(delays),
        cpu_share: cpu / elapsed,
    })
}

pub async fn run(sizes: &[usize], report: &mut Report) -> anyhow::Result<()> {
    println!("\n(g) one conference: a speaker (audio + video) to N listeners");
    let mut lossless = 0;
    for &listeners in sizes {
        let row = match measure(listeners).await {
            Ok(row) => row,
            Err(e) => {
                report.add(
                    &format!("(g) conference, 1 → {listeners}"),
                    format!("did not run: {e:#}"),
                    "—",
                );
                break;
            }
        };
        let streams = (2 * row.listeners) as f64;
        report.add(
            &format!("(g) conference, 1 → {} listeners", row.listeners),
            format!(
                "audio delay p50 {:.1} ms, p99 {:.1} ms; worst loss {:.2} % of {} frames; unit CPU {:.0} % of a core, {:.2} % per forwarded stream",
                quantile(&row.delays_ms, 0.5),
                quantile(&row.delays_ms, 0.99),
                row.worst_loss * 100.0,
                row.written,
                row.cpu_share * 100.0,
                row.cpu_share * 100.0 / streams,
            ),
            "—",
        );
        if row.worst_loss <= 0.001 {
            lossless = row.listeners;
        }
    }
    report.add(
        "(g) largest conference forwarded without loss (≤ 0.1 %)",
        format!("1 speaker → {lossless} listeners"),
        "—",
    );
    Ok(())
}
