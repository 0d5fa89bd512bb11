//! Signed server-to-server requests. The origin signs, with its ed25519 key, one
//! line each of: a version tag, the method, the path with its query, the
//! origin, the destination, the timestamp, the transaction id and the body's
//! SHA-256. The receiver rebuilds the same text from what it received, so a
//! change to any of them breaks the signature.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

pub const ORIGIN: &str = "causeway-origin";
pub const DESTINATION: &str = "causeway-destination";
pub const TIMESTAMP: &str = "causeway-timestamp";
pub const TRANSACTION: &str = "causeway-transaction";
pub const KEY: &str = "causeway-key";
pub const SIGNATURE: &str = "causeway-signature";
/// On a file upload, whose body is streamed rather than read first: the
/// body's SHA-256 (lowercase hex) that was signed; the receiver checks the bytes
/// against it as they arrive.
pub const CONTENT_SHA256: &str = "causeway-content-sha256";

/// How far a request's timestamp may be from the receiver's clock.
pub const MAX_SKEW_MS: i64 = 5 * 60_000;

/// What is signed.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub origin: &'a str,
    pub destination: &'a str,
    pub timestamp: i64,
    pub transaction: &'a str,
    /// The body's SHA-256, lowercase hex ([`body_hash`]).
    pub body_sha256: &'a str,
}

/// The SHA-256 of a body, lowercase hex, as signatures cover it.
pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

impl Signed<'_> {
    pub fn text(&self) -> Vec<u8> {
        format!(
            "causeway-request-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.method.to_ascii_uppercase(),
            self.path_and_query,
            self.origin,
            self.destination,
            self.timestamp,
            self.transaction,
            self.body_sha256,
        )
        .into_bytes()
    }

    /// Does `signature` (base64url) sign this with `key`?
    pub fn verify(&self, key: &VerifyingKey, signature: &str) -> bool {
        verify_raw(key, &self.text(), signature)
    }
}

/// Does `signature` (base64url) sign `text` with `key`?
pub fn verify_raw(key: &VerifyingKey, text: &[u8], signature: &str) -> bool {
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(&bytes) else {
        return false;
    };
    key.verify_strict(text, &signature).is_ok()
}

/// A fresh transaction id: 128 random bits, base64url.
pub fn new_transaction_id() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

/// Is `id` an acceptable transaction id (1–64 of `A-Za-z0-9-_`)?
pub fn valid_transaction_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;

    fn request(body_sha256: &str) -> Signed<'_> {
        Signed {
            method: "POST",
            path_and_query: "/_causeway/v1/transactions",
            origin: "corp",
            destination: "guest",
            timestamp: 1_700_000_000_000,
            transaction: "abc",
            body_sha256,
        }
    }

    #[test]
    fn a_signature_covers_every_part() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let hash = body_hash(b"{}");
        let other_hash = body_hash(b"{ }");
        let signed = request(&hash);
        let signature = URL_SAFE_NO_PAD.encode(key.sign(&signed.text()).to_bytes());
        let public = key.verifying_key();
        assert!(signed.verify(&public, &signature));
        let changes = [
            Signed {
                method: "PUT",
                ..signed
            },
            Signed {
                path_and_query: "/_causeway/v1/transactions?x=1",
                ..signed
            },
            Signed {
                origin: "evil",
                ..signed
            },
            Signed {
                destination: "other",
                ..signed
            },
            Signed {
                timestamp: signed.timestamp + 1,
                ..signed
            },
            Signed {
                transaction: "abd",
                ..signed
            },
            Signed {
                body_sha256: &other_hash,
                ..signed
            },
        ];
        for changed in changes {
            assert!(!changed.verify(&public, &signature), "{changed:?}");
        }
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert!(!signed.verify(&other, &signature));
        assert!(!signed.verify(&public, "not base64!"));
        assert!(!signed.verify(&public, "AAAA"));
    }

    #[test]
    fn transaction_ids_are_bounded() {
        assert!(valid_transaction_id(&new_transaction_id()));
        assert!(!valid_transaction_id(""));
        assert!(!valid_transaction_id(&"a".repeat(65)));
        assert!(!valid_transaction_id("a b"));
    }
}
