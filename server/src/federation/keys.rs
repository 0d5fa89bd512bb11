//! This server's ed25519 signing keys: created on first start, kept in the
//! database (so every process serving one domain signs alike), published in the
//! key document, and rotated by `causeway key rotate`.

use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::protocol::PublishedKey;
use crate::storage::{KeyRow, StorageError, Store};
use crate::time::now_millis;

/// How long a retired key stays published after a rotation: far longer than a
/// signature's timestamp is accepted, and than other servers cache key documents.
pub const RETIRED_KEY_LIFETIME_MS: i64 = 7 * 24 * 3_600_000;

/// The lowercase hex SHA-256 of a raw public key: what administrators pin.
pub fn fingerprint(public_key: &[u8]) -> String {
    hex::encode(Sha256::digest(public_key))
}

/// A new key, named after the start of its fingerprint.
fn generate(at: i64) -> KeyRow {
    let signing = SigningKey::generate(&mut rand::rngs::OsRng);
    let public = signing.verifying_key().to_bytes().to_vec();
    KeyRow {
        key_id: format!("ed25519:{}", &fingerprint(&public)[..16]),
        secret_key: signing.to_bytes().to_vec(),
        public_key: public,
        created_at: at,
        retired_at: None,
        expires_at: None,
    }
}

#[derive(Clone)]
struct Current {
    key_id: String,
    signing: SigningKey,
    published: Vec<PublishedKey>,
}

/// The keys in memory: the one that signs and those published.
#[derive(Clone)]
pub struct ServerKeys {
    current: Arc<RwLock<Current>>,
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKeys")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

fn published(row: &KeyRow) -> PublishedKey {
    PublishedKey {
        key_id: row.key_id.clone(),
        public_key: URL_SAFE_NO_PAD.encode(&row.public_key),
        fingerprint: fingerprint(&row.public_key),
        expires_at: row.expires_at,
    }
}

async fn read(store: &Store) -> Result<Option<Current>, StorageError> {
    let rows = store.server_keys(now_millis()).await?;
    let Some(signing_row) = rows.iter().find(|row| row.retired_at.is_none()) else {
        return Ok(None);
    };
    let seed: [u8; 32] = signing_row.secret_key.as_slice().try_into().map_err(|_| {
        StorageError::Io(std::io::Error::other(
            "a stored signing key is not 32 bytes",
        ))
    })?;
    Ok(Some(Current {
        key_id: signing_row.key_id.clone(),
        signing: SigningKey::from_bytes(&seed),
        published: rows.iter().map(published).collect(),
    }))
}

impl ServerKeys {
    /// Loads the keys, creating the first one on a first start.
    pub async fn load(store: &Store) -> Result<Self, StorageError> {
        if let Some(current) = read(store).await? {
            return Ok(Self {
                current: Arc::new(RwLock::new(current)),
            });
        }
        store
            .rotate_server_key(&generate(now_millis()), now_millis(), true)
            .await?;
        let current = read(store)
            .await?
            .ok_or(StorageError::Missing("signing key"))?;
        Ok(Self {
            current: Arc::new(RwLock::new(current)),
        })
    }

    /// Reads the keys again (after `causeway key rotate` in another process).
    pub async fn reload(&self, store: &Store) -> Result<(), StorageError> {
        if let Some(current) = read(store).await? {
            *self.current.write().expect("keys lock") = current;
        }
        Ok(())
    }

    pub fn key_id(&self) -> String {
        self.current.read().expect("keys lock").key_id.clone()
    }

    /// Signs `message` with the current key: the key's id and the signature.
    pub fn sign(&self, message: &[u8]) -> (String, String) {
        let current = self.current.read().expect("keys lock");
        let signature = current.signing.sign(message);
        (
            current.key_id.clone(),
            URL_SAFE_NO_PAD.encode(signature.to_bytes()),
        )
    }

    /// The keys others verify with.
    pub fn published(&self) -> Vec<PublishedKey> {
        self.current.read().expect("keys lock").published.clone()
    }

    /// The fingerprint of the current key.
    pub fn fingerprint(&self) -> String {
        let current = self.current.read().expect("keys lock");
        fingerprint(current.signing.verifying_key().as_bytes())
    }
}

/// `causeway key rotate`: a new signing key; the old one stays published for
/// [`RETIRED_KEY_LIFETIME_MS`]. Returns the new key's fingerprint.
pub async fn rotate(store: &Store) -> Result<String, StorageError> {
    let now = now_millis();
    let new = generate(now);
    store
        .rotate_server_key(&new, now + RETIRED_KEY_LIFETIME_MS, false)
        .await?;
    Ok(fingerprint(&new.public_key))
}

/// Decodes a published public key.
pub fn verifying_key(published: &PublishedKey) -> Option<VerifyingKey> {
    let bytes = URL_SAFE_NO_PAD.decode(&published.public_key).ok()?;
    let bytes: [u8; 32] = bytes.as_slice().try_into().ok()?;
    let key = VerifyingKey::from_bytes(&bytes).ok()?;
    // The fingerprint is recomputed, never taken from the document.
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_secret_key() {
        let row = generate(0);
        let secret = format!("{:?}", row.secret_key);
        let printed = format!("{row:?}");
        assert!(!printed.contains(&secret), "{printed}");
        assert!(printed.contains(&row.key_id), "{printed}");
        let seed: [u8; 32] = row.secret_key.as_slice().try_into().unwrap();
        let keys = ServerKeys {
            current: Arc::new(RwLock::new(Current {
                key_id: row.key_id.clone(),
                signing: SigningKey::from_bytes(&seed),
                published: vec![published(&row)],
            })),
        };
        let printed = format!("{keys:?} {:?}", SigningKey::from_bytes(&seed));
        assert!(!printed.contains(&secret), "{printed}");
        assert!(!printed.contains(&hex::encode(seed)), "{printed}");
    }
}
