//! argon2id hashing with OWASP's parameters (m = 19 MiB, t = 2, p = 1), on a
//! small pool of worker threads of its own: one per core, each reusing one
//! 19 MiB working memory for every hash. Unauthenticated sign-ins therefore
//! cannot start hundreds of hashes at once (they queue), and the memory a hash
//! needs is not allocated and freed per attempt — freed blocks stayed in the
//! allocator's per-thread arenas of the blocking pool, and the server grew to
//! over a gigabyte after a few dozen concurrent sign-ins (BENCHMARKS.md).
//!
//! The pool is one per process, not per server: cores and the allocator are
//! the process's, and a test process running many servers must not start a
//! pool for each.

use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::Rng;
use rand::distributions::Slice;
use tokio::sync::{mpsc, oneshot};

pub use crate::validate::MAX_PASSWORD_BYTES;

/// Hashes waiting for a worker at most; more callers wait to queue.
const QUEUE: usize = 1024;

fn params() -> Params {
    // OWASP Password Storage Cheat Sheet: m = 19456 KiB, t = 2, p = 1.
    Params::new(19 * 1024, 2, 1, None).expect("the OWASP parameters are valid")
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// The workers' queue.
static POOL: LazyLock<mpsc::Sender<Job>> = LazyLock::new(|| {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let (sender, receiver) = mpsc::channel::<Job>(QUEUE);
    let receiver = Arc::new(Mutex::new(receiver));
    for i in 0..workers {
        let receiver = Arc::clone(&receiver);
        let spawned = std::thread::Builder::new()
            .name(format!("causeway-argon2-{i}"))
            .spawn(move || {
                // Allocated at the first hash, then reused for every one.
                let mut blocks: Vec<Block> = Vec::new();
                loop {
                    // The lock is held only while waiting for the next job.
                    let job = receiver
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .blocking_recv();
                    let Some(job) = job else { return };
                    if blocks.is_empty() {
                        blocks = vec![Block::default(); params().block_count()];
                    }
                    job(&mut blocks);
                }
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "a password hashing worker did not start");
        }
    }
    sender
});

/// Runs `work` on a hashing worker; `None` if the pool is gone.
async fn on_worker<T: Send + 'static>(
    work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> Option<T> {
    let (answer, answered) = oneshot::channel();
    let job: Job = Box::new(move |blocks| {
        let _ = answer.send(work(blocks));
    });
    POOL.send(job).await.ok()?;
    answered.await.ok()
}

/// A hash of a random password that no one knows. Sign-in verifies against it when
/// the login does not exist, so "no such user" takes as long as "wrong password".
static DUMMY_HASH: OnceLock<String> = OnceLock::new();

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

fn hash_with(blocks: &mut [Block], password: &str) -> Result<String, HashError> {
    let failed = |e: &dyn std::fmt::Display| HashError(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| failed(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2()
        .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, blocks)
        .map_err(|e| failed(&e))?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params()).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(phc.to_string())
}

fn verify_with(blocks: &mut [Block], password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    // A stored hash with other parameters than ours (none are written) gets
    // memory of its own rather than growing the worker's for good.
    let computed = if params.block_count() <= blocks.len() {
        argon2.hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            &mut blocks[..params.block_count()],
        )
    } else {
        argon2.hash_password_into(password.as_bytes(), salt, &mut out)
    };
    // `Output`'s comparison takes constant time.
    computed.is_ok() && Output::new(&out).is_ok_and(|out| out == expected)
}

/// Hashes a password into a PHC string.
pub async fn hash(password: String) -> Result<String, HashError> {
    on_worker(move |blocks| hash_with(blocks, &password))
        .await
        .unwrap_or_else(|| Err(HashError("the hashing workers are gone".into())))
}

/// Checks a password against a stored hash, or against a dummy hash when there is
/// no user, taking the same time either way.
pub async fn verify(password: String, hash: Option<String>) -> bool {
    on_worker(move |blocks| match hash {
        Some(hash) => verify_with(blocks, &password, &hash),
        None => {
            let dummy = DUMMY_HASH
                .get_or_init(|| hash_with(blocks, &generate_password()).unwrap_or_default());
            verify_with(blocks, &password, dummy);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// A random password of 20 characters from an alphabet without look-alikes
/// (no 0/O, 1/l/I): about 116 bits, easy to read off a terminal.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let dist = Slice::new(ALPHABET).expect("the alphabet is not empty");
    rand::rngs::OsRng
        .sample_iter(dist)
        .take(20)
        .map(|&b| char::from(b))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let hashed = hash("correct horse".into()).await.unwrap();
        assert!(hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse".into(), Some(hashed.clone())).await);
        assert!(!verify("wrong horse".into(), Some(hashed)).await);
        assert!(!verify("anything".into(), None).await);
        assert!(!verify("anything".into(), Some("not a hash".into())).await);
    }

    #[tokio::test]
    async fn hashes_are_standard_phc_strings_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // Ours verify with the library's own verifier...
        let ours = hash("correct horse".into()).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(argon2().verify_password(b"correct horse", &parsed).is_ok());
        // ...and the library's (every hash stored so far) verify with ours.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = argon2()
            .hash_password(b"battery staple", &salt)
            .unwrap()
            .to_string();
        assert!(verify("battery staple".into(), Some(theirs.clone())).await);
        assert!(!verify("battery stable".into(), Some(theirs)).await);
    }

    #[test]
    fn generated_passwords_differ() {
        let a = generate_password();
        assert_eq!(a.len(), 20);
        assert_ne!(a, generate_password());
    }
}
