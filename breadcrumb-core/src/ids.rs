//! Opaque, prefixed identifiers. Random ids are unguessable; message ids also sort by time so that
//! paging can use them as a cursor.

use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};

const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

fn random_part(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A new id such as `src_k3v9…`: the prefix names the type, 20 random characters (100 bits) follow.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_part(20))
}

static LAST_MICROS: AtomicU64 = AtomicU64::new(0);

/// A message id that sorts after every id this process made before it.
pub fn new_message_id() -> String {
    let now = chrono::Utc::now().timestamp_micros().max(0) as u64;
    let mut prev = LAST_MICROS.load(Ordering::Relaxed);
    let micros = loop {
        let next = now.max(prev + 1);
        match LAST_MICROS.compare_exchange(prev, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break next,
            Err(p) => prev = p,
        }
    };
    format!("msg_{micros:016x}{}", random_part(6))
}

/// Conversation ids chosen by clients: `^[A-Za-z0-9_-]{1,128}$`.
pub fn is_valid_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_sort_in_creation_order() {
        let ids: Vec<String> = (0..1000).map(|_| new_message_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn client_ids_are_checked() {
        assert!(is_valid_client_id("conv-1_A"));
        assert!(!is_valid_client_id(""));
        assert!(!is_valid_client_id("a/b"));
        assert!(!is_valid_client_id(&"a".repeat(129)));
    }
}
