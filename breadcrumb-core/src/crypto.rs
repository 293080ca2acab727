//! Keys derived from the one configured secret: connector passwords are sealed with
//! XChaCha20-Poly1305, API keys are stored as SHA-256 hashes, cursors are HMAC-signed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The server's secret. Sub-keys are derived per purpose so that one leaked sub-key (for example
/// the JWT signing key, if an algorithm were broken) does not expose the others.
#[derive(Clone)]
pub struct SecretKey {
    master: [u8; 32],
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    /// Any string of at least 32 characters; it is hashed, so its alphabet does not matter.
    pub fn from_config(secret: &str) -> Result<Self> {
        if secret.len() < 32 {
            return Err(Error::Internal(
                "BREADCRUMB_SECRET_KEY must be at least 32 characters".into(),
            ));
        }
        Ok(SecretKey {
            master: Sha256::digest(secret.as_bytes()).into(),
        })
    }

    /// A fresh random secret, printable, for first start.
    pub fn generate_string() -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        B64.encode(bytes)
    }

    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.master).expect("any key size");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn cipher(&self) -> Cipher {
        Cipher {
            key: self.derive("breadcrumb/credentials/v1"),
        }
    }

    /// A MAC over `data`, used to make opaque cursors unforgeable.
    pub fn sign(&self, data: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.derive("breadcrumb/cursor/v1"))
            .expect("any key size");
        mac.update(data);
        B64.encode(&mac.finalize().into_bytes()[..16])
    }

    pub fn verify(&self, data: &[u8], signature: &str) -> bool {
        let Ok(sig) = B64.decode(signature) else {
            return false;
        };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.derive("breadcrumb/cursor/v1"))
            .expect("any key size");
        mac.update(data);
        mac.verify_truncated_left(&sig).is_ok()
    }
}

/// Authenticated encryption for secrets at rest. The output is `v1.<nonce>.<ciphertext>`,
/// base64url, so it fits a text column in every store.
#[derive(Clone)]
pub struct Cipher {
    key: [u8; 32],
}

impl Cipher {
    pub fn seal(&self, plaintext: &str) -> String {
        let cipher = XChaCha20Poly1305::new((&self.key).into());
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("encryption of an in-memory buffer cannot fail");
        format!("v1.{}.{}", B64.encode(nonce), B64.encode(ct))
    }

    /// Fails when the text was sealed under another key or was tampered with.
    pub fn open(&self, sealed: &str) -> Result<String> {
        let bad =
            || Error::Internal("stored secret does not decrypt under the configured key".into());
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(n), Some(c), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let nonce = B64.decode(n).map_err(|_| bad())?;
        let ct = B64.decode(c).map_err(|_| bad())?;
        if nonce.len() != 24 {
            return Err(bad());
        }
        let cipher = XChaCha20Poly1305::new((&self.key).into());
        let pt = cipher
            .decrypt(XNonce::from_slice(&nonce), ct.as_ref())
            .map_err(|_| bad())?;
        String::from_utf8(pt).map_err(|_| bad())
    }
}

/// A new API key: `bc_` and 43 characters of base64url (256 random bits).
pub fn generate_api_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("bc_{}", B64.encode(bytes))
}

/// API keys carry 256 random bits, so a single fast hash is enough; no salt or KDF is needed.
pub fn hash_api_key(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_under_its_key() {
        let a = SecretKey::from_config(&"a".repeat(32)).unwrap().cipher();
        let b = SecretKey::from_config(&"b".repeat(32)).unwrap().cipher();
        let sealed = a.seal("hunter2");
        assert!(!sealed.contains("hunter2"));
        assert_eq!(a.open(&sealed).unwrap(), "hunter2");
        assert!(b.open(&sealed).is_err());
        assert!(a.open("v1.AAAA.BBBB").is_err());
    }

    #[test]
    fn cursor_signatures_do_not_verify_other_data() {
        let k = SecretKey::from_config(&"k".repeat(40)).unwrap();
        let s = k.sign(b"conv_1|msg_2");
        assert!(k.verify(b"conv_1|msg_2", &s));
        assert!(!k.verify(b"conv_1|msg_3", &s));
        assert!(!k.verify(b"conv_1|msg_2", "garbage!"));
    }
}
