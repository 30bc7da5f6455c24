//! Signed, expiring links for one-off actions in emails (confirm an address,
//! answer a mentoring offer): `base64url(payload).base64url(HMAC-SHA256)`. The
//! payload names the purpose, the subject (a record id) and the expiry; nothing
//! is stored, a changed byte fails the MAC, and a link for one purpose is never
//! accepted for another. The key is a file in the data directory locally; in AWS it
//! is a Secrets Manager secret (`QNET_LINK_SIGNING_KEY_ARN`) read when first needed
//! and kept for the life of the process ([`LinkSigner::deferred`]), so it is never
//! in a function's environment and never fetched during init.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

type HmacSha256 = Hmac<Sha256>;

/// Fetches the key (the secret's value) once, on first need.
pub type KeyLoader = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send>> + Send + Sync>;

#[derive(Clone)]
pub struct LinkSigner {
    key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
    loader: Option<KeyLoader>,
}

/// The deferred key could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the link signing key could not be loaded: {0}")]
pub struct LinkKeyError(pub String);

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(..)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link is not valid")]
    Invalid,
    #[error("the link has expired")]
    Expired,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    p: String,
    s: String,
    e: i64,
}

impl LinkSigner {
    /// A signer with this key (at least 32 bytes).
    pub fn new(key: &[u8]) -> LinkSigner {
        assert!(key.len() >= 32, "a link signing key has at least 32 bytes");
        LinkSigner { key: Arc::new(tokio::sync::OnceCell::new_with(Some(key.to_vec()))), loader: None }
    }

    /// A signer whose key `load` fetches on the first [`LinkSigner::ensure_loaded`]
    /// (then kept; a failed load is tried again next time). Links are signed and
    /// checked only after it succeeded.
    pub fn deferred(load: KeyLoader) -> LinkSigner {
        LinkSigner { key: Arc::new(tokio::sync::OnceCell::new()), loader: Some(load) }
    }

    /// Loads a deferred key if it is not loaded yet (a fixed key: nothing to do).
    pub async fn ensure_loaded(&self) -> Result<(), LinkKeyError> {
        let Some(load) = &self.loader else { return Ok(()) };
        self.key
            .get_or_try_init(|| async {
                let key = load().await.map_err(LinkKeyError)?;
                if key.len() < 32 {
                    return Err(LinkKeyError("a link signing key has at least 32 bytes".into()));
                }
                Ok(key)
            })
            .await
            .map(|_| ())
    }

    fn key(&self) -> &[u8] {
        self.key.get().expect("the link signing key is loaded (LinkSigner::ensure_loaded) before links are used")
    }

    /// A signer with a random key: links verify only in this process (tests, and
    /// functions that sign nothing).
    pub fn ephemeral() -> LinkSigner {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        LinkSigner::new(&key)
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(self.key()).expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        mac
    }

    /// A link token for `purpose` on `subject`, valid until `expires_at` (unix seconds).
    pub fn sign(&self, purpose: &str, subject: &str, expires_at: i64) -> String {
        let payload = B64.encode(
            serde_json::to_vec(&Payload { p: purpose.into(), s: subject.into(), e: expires_at }).expect("payloads serialise"),
        );
        let mac = B64.encode(self.mac(&payload).finalize().into_bytes());
        format!("{payload}.{mac}")
    }

    /// The subject of a valid, unexpired token for `purpose`.
    pub fn verify(&self, purpose: &str, token: &str, now: i64) -> Result<String, LinkError> {
        let (payload, mac) = token.split_once('.').ok_or(LinkError::Invalid)?;
        let mac = B64.decode(mac).map_err(|_| LinkError::Invalid)?;
        self.mac(payload).verify_slice(&mac).map_err(|_| LinkError::Invalid)?;
        let bytes = B64.decode(payload).map_err(|_| LinkError::Invalid)?;
        let p: Payload = serde_json::from_slice(&bytes).map_err(|_| LinkError::Invalid)?;
        if p.p != purpose {
            return Err(LinkError::Invalid);
        }
        if now >= p.e {
            return Err(LinkError::Expired);
        }
        Ok(p.s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_links_verify_expire_and_refuse_tampering() {
        let s = LinkSigner::new(&[7u8; 32]);
        let t = s.sign("confirm-email", "member-1", 1_000);
        assert_eq!(s.verify("confirm-email", &t, 999), Ok("member-1".into()));
        assert_eq!(s.verify("confirm-email", &t, 1_000), Err(LinkError::Expired));
        assert_eq!(s.verify("mentoring-offer", &t, 1), Err(LinkError::Invalid), "one purpose only");
        let other = LinkSigner::new(&[8u8; 32]);
        assert_eq!(other.verify("confirm-email", &t, 1), Err(LinkError::Invalid), "another key");
        let mut bytes = t.clone().into_bytes();
        bytes[3] ^= 1;
        assert_eq!(s.verify("confirm-email", &String::from_utf8_lossy(&bytes), 1), Err(LinkError::Invalid));
        for bad in ["", ".", "abc", "a.b", &format!("{t}x")] {
            assert!(s.verify("confirm-email", bad, 1).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_deferred_key_is_loaded_once_on_first_need() {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = calls.clone();
        let s = LinkSigner::deferred(Arc::new(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async { Ok(vec![7u8; 32]) })
        }));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing fetched before first need");
        s.ensure_loaded().await.unwrap();
        s.clone().ensure_loaded().await.unwrap();
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1, "fetched once, shared by clones");
        let t = s.sign("confirm-email", "member-1", 1_000);
        assert_eq!(LinkSigner::new(&[7u8; 32]).verify("confirm-email", &t, 1), Ok("member-1".into()));

        let short = LinkSigner::deferred(Arc::new(|| Box::pin(async { Ok(b"short".to_vec()) })));
        assert!(short.ensure_loaded().await.is_err(), "a short key is refused");
        let failing = LinkSigner::deferred(Arc::new(|| Box::pin(async { Err("AccessDenied".to_string()) })));
        assert_eq!(failing.ensure_loaded().await, Err(LinkKeyError("AccessDenied".into())));
    }
}
