//! Group commit for message sends. A send is acknowledged only once its
//! transaction is durably committed (on SQLite: fsync'd, `synchronous = FULL`),
//! and a commit costs one fsync whether it holds one message or hundreds. So
//! sends do not each open a transaction: they join a bounded queue, and one task
//! per [`Store`] takes whatever has queued up while the previous commit was being
//! flushed — up to [`MAX_BATCH`] sends — and stores it in one write transaction
//! ([`Store::post_messages`]), then answers each sender with its own result.
//!
//! A lone send is not delayed: the task waits for nothing but the first send, so
//! an idle server commits it at once. Under load, batches grow by themselves to
//! what arrived during one commit.

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::chats::{NewMessage, Sent};
use super::{ChatId, Result, Seq, StorageError, Store};

/// The most sends stored in one transaction.
pub const MAX_BATCH: usize = 256;

/// Sends that may wait for the committer; a sender beyond this waits for room.
const QUEUE: usize = 4 * MAX_BATCH;

/// The result of one send.
pub type Posted = Result<Sent>;

/// A send waiting for its commit. It owns its text: the sender's borrowed
/// [`NewMessage`] cannot cross into the committer's task.
struct Job {
    chat_id: ChatId,
    sender: String,
    client_id: String,
    body: String,
    reply_to: Option<Seq>,
    file_id: Option<i64>,
    at: i64,
    reply: oneshot::Sender<Posted>,
}

impl Job {
    fn message(&self) -> NewMessage<'_> {
        NewMessage {
            chat_id: self.chat_id,
            sender: &self.sender,
            client_id: &self.client_id,
            body: &self.body,
            reply_to: self.reply_to,
            file_id: self.file_id,
            at: self.at,
        }
    }
}

/// The sending side of a store's committer, held by every clone of the [`Store`].
#[derive(Clone, Debug)]
pub(super) struct GroupCommit {
    queue: mpsc::Sender<Job>,
    stop: CancellationToken,
}

impl GroupCommit {
    /// Starts the committer of `store`, which must be a store without a queue of
    /// its own (it stores each batch directly). The task ends when [`Self::stop`]
    /// is called or every clone of the queue is gone.
    pub(super) fn start(store: Store) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let stop = CancellationToken::new();
        tokio::spawn(run(store, jobs, stop.clone()));
        Self { queue, stop }
    }

    /// Queues `message` and waits until it is committed (or refused).
    pub(super) async fn post(&self, message: &NewMessage<'_>) -> Posted {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            chat_id: message.chat_id,
            sender: message.sender.to_owned(),
            client_id: message.client_id.to_owned(),
            body: message.body.to_owned(),
            reply_to: message.reply_to,
            file_id: message.file_id,
            at: message.at,
            reply,
        };
        // Either side gone means the store was closed.
        let closed = || StorageError::Database(sqlx::Error::PoolClosed);
        self.queue.send(job).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    /// Ends the committer after the batch it is storing, if any; sends still
    /// queued are answered with `PoolClosed`.
    pub(super) fn stop(&self) {
        self.stop.cancel();
    }
}

async fn run(store: Store, mut jobs: mpsc::Receiver<Job>, stop: CancellationToken) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    loop {
        let first = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            job = jobs.recv() => match job {
                Some(job) => job,
                None => break,
            },
        };
        batch.push(first);
        // Everything that queued up while the last commit was being flushed.
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let messages: Vec<NewMessage<'_>> = batch.iter().map(Job::message).collect();
        let results = store.post_messages(&messages).await;
        drop(messages);
        for (job, result) in batch.drain(..).zip(results) {
            // A sender that stopped waiting still has its message stored; a
            // retry with the same client_id will find it.
            let _ = job.reply.send(result);
        }
    }
    // Dropping the remaining jobs tells their senders the store is closed.
    jobs.close();
}
