//! Signed links: the key kept in the database (made on first start) and the HMAC-SHA256 tokens
//! that let a digest's "judge this" link open its page without a login, and that bind CSRF
//! tokens to a browser's cookie.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::StoreError;
use crate::store::Store;

/// The name of the signing key in the `secrets` table.
const KEY_NAME: &str = "link_key";
/// Bytes of a token kept (128 bits): enough against guessing, short in a URL.
const TOKEN_BYTES: usize = 16;

/// The signing key. Cloning is cheap enough (32 bytes).
#[derive(Clone)]
pub struct Key(Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

/// 32 random bytes from the operating system.
pub fn random_bytes() -> Vec<u8> {
    let mut b = vec![0u8; 32];
    getrandom::fill(&mut b).expect("the operating system's random source");
    b
}

impl Key {
    /// The database's key, made and stored on first use.
    pub fn load(store: &mut Store) -> Result<Key, StoreError> {
        store.secret(KEY_NAME, random_bytes).map(Key)
    }

    /// A key from raw bytes (tests).
    pub fn from_bytes(b: &[u8]) -> Key {
        Key(b.to_vec())
    }

    /// The token of `message`: hex of the first [`TOKEN_BYTES`] of its HMAC-SHA256.
    pub fn sign(&self, message: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(message.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..TOKEN_BYTES])
    }

    /// Whether `token` is the token of `message`, compared in constant time.
    pub fn verify(&self, message: &str, token: &str) -> bool {
        let Ok(given) = hex::decode(token) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(message.as_bytes());
        mac.verify_truncated_left(&given).is_ok() && given.len() == TOKEN_BYTES
    }
}

/// What a judgement link signs: one item and one topic.
pub fn judge_message(item_id: i64, topic: &str) -> String {
    format!("judge\n{item_id}\n{topic}")
}

/// The path (below the web view's base URL) of the page that judges `item_id` for `topic`.
pub fn judge_path(key: &Key, item_id: i64, topic: &str) -> String {
    let topic_enc: String = url::form_urlencoded::byte_serialize(topic.as_bytes()).collect();
    format!(
        "judge/{item_id}/{topic_enc}?t={}",
        key.sign(&judge_message(item_id, topic))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_for_their_message_and_key() {
        let k = Key::from_bytes(b"0123456789abcdef0123456789abcdef");
        let t = k.sign(&judge_message(7, "eu-nato-cyber"));
        assert_eq!(t.len(), 32);
        assert!(k.verify(&judge_message(7, "eu-nato-cyber"), &t));
        assert!(!k.verify(&judge_message(8, "eu-nato-cyber"), &t));
        assert!(!k.verify(&judge_message(7, "eu-us-cyber"), &t));
        assert!(!Key::from_bytes(b"other").verify(&judge_message(7, "eu-nato-cyber"), &t));
        assert!(!k.verify(&judge_message(7, "eu-nato-cyber"), &t[..30]));
        assert!(!k.verify(&judge_message(7, "eu-nato-cyber"), "zz"));
        assert!(!k.verify(&judge_message(7, "eu-nato-cyber"), ""));
    }

    #[test]
    fn the_key_is_made_once_per_database() {
        let mut s = Store::open_in_memory().unwrap();
        let a = Key::load(&mut s).unwrap();
        let b = Key::load(&mut s).unwrap();
        assert_eq!(a.sign("x"), b.sign("x"));
        assert_eq!(a.0.len(), 32);
    }
}
