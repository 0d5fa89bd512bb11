//! (e) Federation: two release servers, `corp` and `guest`, on loopback, each on
//! the other's white list. Measures cross-server send→receive latency (Wolf
//! posts on corp, Moore's WebSocket on guest gets the push) and the delivery of
//! a backlog: guest is stopped, corp takes `backlog` messages, guest starts again
//! on the same data, and the clock runs until guest has them all.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::stream::{self, StreamExt};
use serde_json::{Value, json};

use crate::api::{self, User};
use crate::server::Server;
use crate::{Report, ms, quantile, sorted};

async fn allow(admin: &User, own: &Server, other: &Server) -> anyhow::Result<()> {
    let response = admin
        .http
        .put(format!("{}/api/v1/admin/federation", own.base))
        .json(&json!({ "mode": "whitelist", "whitelist": [
            { "server_name": other.server_name, "address": other.base }
        ] }))
        .send()
        .await?;
    if response.status() != 200 {
        bail!("federation settings: {}", response.text().await?);
    }
    Ok(())
}

/// Lets people of other servers start chats with anyone on `own` (the default
/// lets them reach only people whose address book lists them).
async fn everyone_reachable(admin: &User, own: &Server) -> anyhow::Result<()> {
    let url = format!("{}/api/v1/admin/settings/chats", own.base);
    let mut settings: Value = admin.http.get(&url).send().await?.json().await?;
    settings["outsiders_reach"] = json!("everyone");
    let response = admin.http.put(&url).json(&settings).send().await?;
    if response.status() != 200 {
        bail!("chat settings: {}", response.text().await?);
    }
    Ok(())
}

/// The last sequence number of `user`'s chat `chat`, as their server has it.
async fn last_seq(user: &User, base: &str, chat: i64) -> anyhow::Result<i64> {
    api::last_seq(user, base, chat).await
}

pub async fn run(
    binary: &Path,
    samples: usize,
    backlog: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    println!("\n(e) federation: corp → guest");
    let corp = Server::start_named(binary, None, Some("corp"))?;
    let mut guest = Server::start_named(binary, None, Some("guest"))?;
    let corp_admin = api::sign_in(&corp.base, "corp", "admin", &corp.admin_password).await?;
    let guest_admin = api::sign_in(&guest.base, "guest", "admin", &guest.admin_password).await?;
    allow(&corp_admin, &corp, &guest).await?;
    allow(&guest_admin, &guest, &corp).await?;
    everyone_reachable(&guest_admin, &guest).await?;
    api::create_user(&corp_admin, &corp.base, "wolf").await?;
    api::create_user(&guest_admin, &guest.base, "moore").await?;
    let wolf = api::sign_in(&corp.base, "corp", "wolf", api::PASSWORD).await?;
    let moore = api::sign_in(&guest.base, "guest", "moore", api::PASSWORD).await?;

    let response = wolf
        .http
        .post(format!("{}/api/v1/chats/direct", corp.base))
        .json(&json!({ "with": "moore@guest" }))
        .send()
        .await?;
    if response.status() != 201 {
        bail!("opening the direct chat: {}", response.text().await?);
    }
    let chat = response.json::<Value>().await?["id"]
        .as_i64()
        .context("the chat's id")?;
    let url = api::messages_url(&corp.base, chat);

    // Latency: one message at a time, from the POST on corp to the push on guest.
    let mut socket = api::connect(&guest.addr, &moore.cookie).await?;
    let warm_up = samples / 10;
    let mut received = Vec::with_capacity(samples);
    for i in 0..warm_up + samples {
        let client_id = format!("fed-{i}");
        let started = Instant::now();
        let post = async {
            api::send(&wolf, &url, &client_id).await?;
            anyhow::Ok(())
        };
        let push = async {
            loop {
                let frame = api::next_text(&mut socket).await?;
                if api::pushed_client_id(&frame) == Some(client_id.as_str()) {
                    return anyhow::Ok(started.elapsed());
                }
            }
        };
        let ((), push) = tokio::try_join!(post, push)?;
        if i >= warm_up {
            received.push(ms(push));
        }
    }
    api::close(socket).await;
    let received = sorted(received);
    report.add(
        "(e) cross-server send→receive latency",
        format!(
            "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({samples} samples)",
            quantile(&received, 0.5),
            quantile(&received, 0.99),
            received.last().copied().unwrap_or(f64::NAN)
        ),
        "—",
    );

    // The copy of the chat on guest.
    let chats: Value = moore
        .http
        .get(format!("{}/api/v1/chats", guest.base))
        .send()
        .await?
        .json()
        .await?;
    let copy = chats[0]["id"].as_i64().context("the chat on guest")?;

    // Backlog: guest is down while corp takes `backlog` messages.
    guest.halt()?;
    let queued = Instant::now();
    let mut sends = stream::iter((0..backlog).map(|i| {
        let (wolf, url) = (wolf.clone(), url.clone());
        async move { api::send(&wolf, &url, &format!("backlog-{i}")).await }
    }))
    .buffer_unordered(16);
    while let Some(sent) = sends.next().await {
        sent?;
    }
    let queue_seconds = queued.elapsed().as_secs_f64();
    let target = api::last_seq(&wolf, &corp.base, chat).await?;
    println!("  {backlog} messages stored on corp in {queue_seconds:.1} s while guest was down");

    guest.resume(binary)?;
    let back = Instant::now();
    let start_seq = last_seq(&moore, &guest.base, copy).await?;
    let mut first_delivery = None;
    loop {
        let seq = last_seq(&moore, &guest.base, copy).await?;
        if seq > start_seq && first_delivery.is_none() {
            first_delivery = Some(back.elapsed());
        }
        if seq >= target {
            break;
        }
        if back.elapsed() > Duration::from_secs(600) {
            bail!("guest has {seq} of {target} events after 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let done = back.elapsed();
    let first = first_delivery.unwrap_or(done);
    let drain = done.saturating_sub(first).as_secs_f64();
    report.add(
        &format!("(e) {backlog}-message backlog, guest back → all delivered"),
        format!(
            "{:.2} s ({:.2} s until corp's retry reached guest, then {:.2} s, {:.0} msgs/s)",
            done.as_secs_f64(),
            first.as_secs_f64(),
            drain,
            backlog as f64 / drain.max(0.001)
        ),
        "—",
    );
    corp.stop()?;
    guest.stop()?;
    Ok(())
}
