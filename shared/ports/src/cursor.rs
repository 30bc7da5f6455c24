//! Opaque pagination cursors.
//!
//! A cursor is the position of the last item returned: its primary key and, for a
//! secondary index, its index key. Both adapters produce and consume the same
//! form, so a client can never tell which store answered. Clients see it as
//! base64url text and must not interpret it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub pk: String,
    pub sk: String,
    /// Index partition and sort key when the query ran on a secondary index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isk: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the cursor is not one this service issued")]
pub struct CursorError;

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("cursor serialises"))
    }

    pub fn decode(text: &str) -> Result<Cursor, CursorError> {
        if text.is_empty() || text.len() > 2048 {
            return Err(CursorError);
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| CursorError)?;
        serde_json::from_slice(&bytes).map_err(|_| CursorError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_garbage() {
        let c = Cursor { pk: "A".into(), sk: "B".into(), ipk: Some("I".into()), isk: Some("J".into()) };
        assert_eq!(Cursor::decode(&c.encode()), Ok(c));
        assert_eq!(Cursor::decode("not a cursor!"), Err(CursorError));
        assert_eq!(Cursor::decode(""), Err(CursorError));
    }
}
