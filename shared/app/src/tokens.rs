//! Opaque link tokens (unsubscribe links, board replies, calendar feeds): 160 random bits,
//! written in base32 so they survive case-folding in an email address
//! (`unsubscribe+TOKEN@…`). Only the token's SHA-256 is stored, so a copy of the
//! table reveals no working link; nothing about the member can be read from a
//! token; a token never expires but can be revoked by deleting its record.

use data_encoding::BASE32_NOPAD;
use qnet_ports::{Condition, Index, Item, Query, Write};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{App, AppResult, decode, encode, keys};

/// Characters in a token: 20 bytes in base32 without padding.
pub const TOKEN_LEN: usize = 32;

/// A new token: the text goes into one email; only `hash` is stored.
pub struct OpaqueToken {
    pub text: String,
    pub hash: String,
}

pub fn new_token() -> OpaqueToken {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    let text = BASE32_NOPAD.encode(&bytes);
    let hash = hash_of(&text);
    OpaqueToken { text, hash }
}

fn hash_of(normalised: &str) -> String {
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

/// The stored hash of a token as written in a link or an address, or `None`
/// when it cannot be a token (wrong length or alphabet), which callers answer
/// like an unknown token.
pub fn hash_token(text: &str) -> Option<String> {
    let t = text.trim().to_ascii_uppercase();
    let ok = t.len() == TOKEN_LEN && BASE32_NOPAD.decode(t.as_bytes()).is_ok();
    ok.then(|| hash_of(&t))
}

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    /// Leave the digest (List-Unsubscribe).
    Unsubscribe,
    /// Reply by email to a project board post (`reply+TOKEN@`); the context is
    /// `<project id>/<post id>`, one token per (follower, post).
    BoardReply,
    /// Reply by email to a question or answer email (`reply+TOKEN@`): the
    /// reply becomes an answer; the context is the question id, one token per
    /// (recipient, email).
    QuestionReply,
    /// Read the member's personal calendar feed (`GET /calendar-feeds/{token}`);
    /// at most one live per member (`calendar_feeds.rs`).
    CalendarFeed,
    /// Turn off one kind of engagement email (`List-Unsubscribe` of that
    /// email); the context is the kind (`questions`, `expert_questions`, …).
    OptOut,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    pub purpose: TokenPurpose,
    pub member_id: String,
    pub issued_at: String,
    /// What the token was issued with, e.g. the digest issue id.
    #[serde(default)]
    pub context: Option<String>,
}

impl App {
    /// The write that stores a new token for `member_id`; the token's text goes
    /// into the email, its hash into the store.
    pub(crate) fn token_write(&self, purpose: TokenPurpose, member_id: &str, context: Option<&str>) -> (OpaqueToken, Write) {
        let token = new_token();
        let (pk, sk) = keys::token(&token.hash);
        let record = TokenRecord {
            purpose,
            member_id: member_id.to_string(),
            issued_at: self.now_text(),
            context: context.map(String::from),
        };
        let item = Item::new(pk, sk, encode(&record))
            .with_gsi2(keys::member_tokens(member_id), format!("{}#{}", record.issued_at, token.hash));
        (token, Write::Put { item, condition: Condition::NotExists })
    }

    /// The live record of a token, if the text is one.
    pub async fn token_record(&self, text: &str, purpose: TokenPurpose) -> AppResult<Option<TokenRecord>> {
        let Some(hash) = hash_token(text) else { return Ok(None) };
        let (pk, sk) = keys::token(&hash);
        match self.records.get(&pk, &sk).await? {
            Some(item) => {
                let r: TokenRecord = decode(&item)?;
                Ok((r.purpose == purpose).then_some(r))
            }
            None => Ok(None),
        }
    }

    /// Revokes every token issued to a member (erasure; a member's request).
    pub async fn revoke_member_tokens(&self, member_id: &str) -> AppResult<usize> {
        let mut n = 0;
        loop {
            let page = self.records.query(Query::new(Index::Gsi2, keys::member_tokens(member_id)).limit(100)).await?;
            if page.items.is_empty() {
                return Ok(n);
            }
            for item in page.items {
                self.records.delete(&item.pk, &item.sk, Condition::None).await?;
                n += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_base32_and_case_insensitive() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a.text, b.text);
        assert_eq!(a.text.len(), TOKEN_LEN);
        assert_eq!(hash_token(&a.text).as_deref(), Some(a.hash.as_str()));
        assert_eq!(hash_token(&a.text.to_ascii_lowercase()).as_deref(), Some(a.hash.as_str()));
        assert_ne!(a.hash, a.text, "only the hash is stored");
        for bad in ["", "short", &format!("{}1", &a.text[..31]), &format!("{}A", a.text)] {
            assert_eq!(hash_token(bad), None, "{bad}");
        }
    }
}
