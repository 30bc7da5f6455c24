//! Identity: one `Claims` type reaches handlers the same way in Lambda (from the
//! API Gateway JWT authorizer, or a verified Cognito ID token) and locally (from a
//! token signed with the data directory's key).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use qnet_domain::Role;
pub use qnet_domain::claims::Claims;
use serde::{Deserialize, Serialize};

pub const LOCAL_ISSUER: &str = "qnet-local";

#[derive(Debug, Serialize, Deserialize)]
struct LocalTokenClaims {
    sub: String,
    email: String,
    name: String,
    groups: Vec<String>,
    iss: String,
    aud: String,
    iat: u64,
    exp: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid")]
    Invalid,
}

/// Signs and verifies the local runner's bearer tokens (HS256 with the data
/// directory's secret). Stands in for Cognito when running on a laptop.
#[derive(Clone)]
pub struct LocalTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl LocalTokens {
    pub fn new(secret: &[u8]) -> LocalTokens {
        LocalTokens { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret) }
    }

    pub fn sign(&self, claims: &Claims, now_unix: u64, ttl_seconds: u64) -> String {
        let c = LocalTokenClaims {
            sub: claims.sub.clone(),
            email: claims.email.clone(),
            name: claims.name.clone(),
            groups: claims.groups.iter().map(|r| r.as_str().to_string()).collect(),
            iss: LOCAL_ISSUER.into(),
            aud: LOCAL_ISSUER.into(),
            iat: now_unix,
            exp: now_unix + ttl_seconds,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &c, &self.encoding).expect("HS256 signing cannot fail")
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[LOCAL_ISSUER]);
        v.set_audience(&[LOCAL_ISSUER]);
        v.leeway = 5;
        let data = jsonwebtoken::decode::<LocalTokenClaims>(token, &self.decoding, &v).map_err(|e| {
            if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) {
                TokenError::Expired
            } else {
                TokenError::Invalid
            }
        })?;
        let c = data.claims;
        let groups = c.groups.iter().filter_map(|g| Role::parse(g)).collect();
        Ok(Claims::new(c.sub, c.email, c.name, groups))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_verifies_and_refuses() {
        let t = LocalTokens::new(&[7u8; 32]);
        let c = Claims::new("m1".into(), "A@nhs.net".into(), "A".into(), vec![Role::Moderator]);
        // jsonwebtoken judges `exp` by the real time, so the token is made now.
        let now = qnet_ports::Clock::now(&qnet_ports::SystemClock).unix_timestamp() as u64;
        let tok = t.sign(&c, now, 3600);
        let back = t.verify(&tok).unwrap();
        assert_eq!(back.groups, vec![Role::Member, Role::Moderator]);
        assert_eq!(back.email, "a@nhs.net");
        let old = t.sign(&c, 1_000_000_000, 60);
        assert_eq!(t.verify(&old), Err(TokenError::Expired));
        assert_eq!(LocalTokens::new(&[8u8; 32]).verify(&tok), Err(TokenError::Invalid));
        assert_eq!(t.verify("nonsense"), Err(TokenError::Invalid));
    }
}
