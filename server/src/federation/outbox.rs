//! Delivery of chat events to the other servers with members in a chat hosted
//! here.
//!
//! The chat's event log is the outbox: it already holds every event durably and
//! in order. What is kept per destination and chat is a cursor — the last event
//! and read-position version delivered there (`federation_cursors`). One worker
//! per destination sends the events after its cursors in batches
//! (`POST /_causeway/v1/transactions`) and moves the cursors once the
//! destination has stored them. A failure is retried with jittered exponential
//! backoff. The receiver ignores events it already has, so a batch sent twice
//! (the answer was lost) changes nothing: delivery is at least once and applied
//! once, in order per chat, and survives restarts of either side.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::types::{CausewayId, ServerName};
use axum::http::Method;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::Context;
use super::protocol::{ChatUpdate, PREFIX, Transaction, TransactionResult};
use crate::chat::{self, Seq};
use crate::error::ApiError;
use crate::storage::CursorRow;
use crate::time::now_millis;

/// Most chats and events in one transaction.
const MAX_CHATS: i64 = 64;
const MAX_EVENTS: usize = 1000;
/// Backoff after failures: 1 s doubling to 1 min, each wait drawn between half
/// and all of it. A minute at most: a peer back from an outage gets its
/// messages within a minute, and a dead peer costs one request a minute.
const FIRST_BACKOFF_MS: u64 = 1000;
const MAX_BACKOFF_MS: u64 = 60_000;
/// How often a peer's row is rewritten while deliveries keep working (the
/// Federation page's "last delivery" is at most this old).
const SUCCESS_NOTE_EVERY: Duration = Duration::from_secs(5);

/// The workers, one per destination, each woken when its destination has news.
#[derive(Default)]
pub struct Outbox {
    workers: Mutex<HashMap<ServerName, Worker>>,
}

#[derive(Clone, Default)]
struct Worker {
    /// Something new to send.
    news: Arc<Notify>,
    /// Try again now, even during a backoff (the settings changed).
    retry: Arc<Notify>,
}

impl Outbox {
    /// Wakes the worker of `destination`, starting it if needed.
    pub fn wake(&self, state: &Context, destination: &ServerName) {
        let mut workers = self.workers.lock().expect("outbox lock");
        if let Some(worker) = workers.get(destination) {
            worker.news.notify_one();
            return;
        }
        let worker = Worker::default();
        workers.insert(destination.clone(), worker.clone());
        let tasks = state.tasks.clone();
        tokio::spawn(run(state.clone(), destination.clone(), worker, tasks));
    }

    /// Makes the worker of `destination` try again at once (it said it is back).
    pub fn retry(&self, state: &Context, destination: &ServerName) {
        let running = self
            .workers
            .lock()
            .expect("outbox lock")
            .get(destination)
            .cloned();
        match running {
            Some(worker) => worker.retry.notify_one(),
            None => self.wake(state, destination),
        }
    }

    /// Makes every worker try again at once (after the federation settings
    /// changed: a server allowed again need not wait out its backoff).
    pub fn wake_all(&self) {
        for worker in self.workers.lock().expect("outbox lock").values() {
            worker.retry.notify_one();
        }
    }
}

/// Starts the workers of every destination with something to deliver (at start-up).
pub async fn resume(state: &Context) {
    match state.store.destinations_pending().await {
        Ok(destinations) => {
            for destination in destinations {
                if let Ok(server) = ServerName::parse(&destination) {
                    state.federation.outbox.wake(state, &server);
                }
            }
        }
        Err(error) => tracing::warn!(%error, "the outbox could not be read at start"),
    }
}

fn backoff(failures: u32) -> Duration {
    let full = FIRST_BACKOFF_MS
        .saturating_mul(1 << failures.min(20))
        .min(MAX_BACKOFF_MS);
    Duration::from_millis(rand::Rng::gen_range(
        &mut rand::thread_rng(),
        full / 2..=full,
    ))
}

async fn run(state: Context, destination: ServerName, worker: Worker, tasks: CancellationToken) {
    let mut failures: u32 = 0;
    // When success was last written down: while deliveries keep working, the
    // peer's row is rewritten at most every few seconds, not per batch.
    let mut success_noted: Option<std::time::Instant> = None;
    loop {
        let outcome = deliver_once(&state, &destination).await;
        let wait = match outcome {
            Ok(true) => {
                let stale = success_noted.is_none_or(|at| at.elapsed() > SUCCESS_NOTE_EVERY);
                if failures > 0 || stale {
                    match state
                        .store
                        .note_peer_attempt(destination.as_str(), now_millis(), Ok(()))
                        .await
                    {
                        Ok(()) => success_noted = Some(std::time::Instant::now()),
                        Err(error) => tracing::warn!(%error, "the peer's state was not recorded"),
                    }
                }
                failures = 0;
                continue;
            }
            Ok(false) => {
                failures = 0;
                None
            }
            Err(reason) => {
                failures = failures.saturating_add(1);
                success_noted = None;
                tracing::info!(%destination, %reason, failures, "delivery failed; retrying later");
                if let Err(error) = state
                    .store
                    .note_peer_attempt(destination.as_str(), now_millis(), Err(&reason))
                    .await
                {
                    tracing::warn!(%error, "the peer's state was not recorded");
                }
                Some(backoff(failures - 1))
            }
        };
        match wait {
            // Nothing to send: sleep until woken (or a minute, to be safe).
            None => tokio::select! {
                () = worker.news.notified() => {}
                () = worker.retry.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(60)) => {}
                () = tasks.cancelled() => return,
            },
            // After a failure, wait out the backoff: new events do not shorten
            // it (a burst of sends must not become a burst of retries), a
            // settings change does.
            Some(delay) => tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = worker.retry.notified() => {}
                () = tasks.cancelled() => return,
            },
        }
    }
}

/// Sends one batch to `destination`. `Ok(true)`: something was delivered (look
/// again); `Ok(false)`: nothing to send.
async fn deliver_once(state: &Context, destination: &ServerName) -> Result<bool, String> {
    let cursors = state
        .store
        .pending_cursors(destination.as_str(), MAX_CHATS)
        .await
        .map_err(|e| format!("reading the outbox: {e}"))?;
    if cursors.is_empty() {
        return Ok(false);
    }
    // Federation may have been turned off for this server: keep everything and
    // try again later.
    state
        .federation
        .address(destination)
        .map_err(|e| e.to_string())?;
    let mut chats_out = Vec::new();
    let mut advances = Vec::new();
    let mut events_left = MAX_EVENTS;
    for cursor in cursors {
        if events_left == 0 {
            break;
        }
        let built = build(state, destination, &cursor, events_left)
            .await
            .map_err(|e| format!("reading chat {}: {}", cursor.chat_id, e.message))?;
        events_left =
            events_left.saturating_sub(built.update.as_ref().map_or(0, |u| u.events.len()));
        advances.push((
            cursor.chat_id,
            built.delivered,
            cursor.reads_version,
            built.departed,
        ));
        if let Some(update) = built.update {
            chats_out.push(update);
        }
    }
    if !chats_out.is_empty() {
        let body = Transaction { chats: chats_out };
        let result: TransactionResult = state
            .federation
            .call(
                destination,
                Method::POST,
                &format!("{PREFIX}/transactions"),
                Some(&body),
            )
            .await
            .map_err(|e| e.to_string())?;
        // Refused for good: retrying would block every other chat behind it.
        for refused in result.refused {
            tracing::warn!(
                %destination,
                chat_id = refused.chat_id,
                reason = %refused.reason,
                "a chat update was refused by the destination; skipped"
            );
        }
    }
    for (chat_id, seq, reads, departed) in advances {
        let moved = if departed {
            // Nothing more for it in this chat: the cursor goes (and comes back
            // should one of its people be added again).
            state
                .store
                .drop_departed_cursor(destination.as_str(), chat_id)
                .await
        } else {
            state
                .store
                .advance_cursor(destination.as_str(), chat_id, seq, reads)
                .await
        };
        moved.map_err(|e| format!("moving the outbox cursor: {e}"))?;
    }
    Ok(true)
}

/// What [`build`] found for one chat.
struct Built {
    /// What to send; `None` when there is nothing for the destination.
    update: Option<ChatUpdate>,
    /// The sequence number the cursor moves to.
    delivered: Seq,
    /// The destination has no members left in the chat and was sent everything
    /// it may have: its cursor can go.
    departed: bool,
}

/// The update of one chat for `destination`: its members and the events after
/// the cursor that the destination may have — those from when its first
/// current member joined, and the removals of its members. `None` when there
/// is nothing for it (its members left long ago).
async fn build(
    state: &Context,
    destination: &ServerName,
    cursor: &CursorRow,
    max_events: usize,
) -> Result<Built, ApiError> {
    let chat = state
        .store
        .chat(cursor.chat_id)
        .await?
        .ok_or_else(|| ApiError::missing("chat"))?;
    let limit = i64::try_from(max_events).unwrap_or(i64::MAX).min(500);
    let events = chat::events_out(
        &state.store,
        chat.id,
        cursor.delivered_seq.max(Seq(0)),
        limit,
    )
    .await?;
    // The members are read after the events, so they are never older than
    // the events sent with them (a member added just after the events were
    // read is listed early, and their event follows in the next update).
    let rows = state.store.chat_members(chat.id).await?;
    let on_destination = |member: &str| {
        member
            .parse::<CausewayId>()
            .is_ok_and(|id| &id.server == destination)
    };
    let first_joined = rows
        .iter()
        .filter(|m| on_destination(&m.member))
        .map(|m| m.joined_seq)
        .min();
    // Where the cursor moves: past the last event read (filtered or not).
    let delivered = events
        .last()
        .map_or(cursor.delivered_seq.max(Seq(0)), |e| Seq(e.seq));
    let events: Vec<_> = events
        .into_iter()
        .filter(|event| {
            first_joined.is_some_and(|first| Seq(event.seq) >= first)
                || event
                    .subject
                    .as_ref()
                    .is_some_and(|s| &s.server == destination)
        })
        .collect();
    let never_sent = cursor.delivered_seq < Seq(0);
    let reads_changed = cursor.delivered_reads < cursor.reads_version;
    let departed = first_joined.is_none() && delivered >= chat.last_seq;
    let nothing = if first_joined.is_none() {
        events.is_empty()
    } else {
        events.is_empty() && !never_sent && !reads_changed
    };
    let update = if nothing {
        None
    } else {
        Some(super::copies::chat_update(state, &chat, rows, events, delivered.0).await?)
    };
    Ok(Built {
        update,
        delivered,
        departed,
    })
}
