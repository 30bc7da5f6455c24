//! Who is calling. In Lambda, routes that need login are guarded by the API
//! Gateway JWT authorizer, whose verified claims arrive in the request context;
//! on routes where login is optional the function verifies a Cognito ID token
//! itself (JWKS fetched once per container, and again, at most once a minute,
//! when a token names a key it does not hold). Locally, tokens signed with the data
//! directory's key are verified here. Handlers only ever see `Claims`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use qnet_app::{Claims, LocalTokens, TokenError};
use qnet_domain::role::parse_groups;
use qnet_ports::{Clock, SystemClock};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::problem::Problem;

/// How bearer tokens are verified.
pub enum Authenticator {
    Local(LocalTokens),
    Cognito(CognitoVerifier),
}

/// Verifies Cognito ID tokens against the user pool's JWKS.
pub struct CognitoVerifier {
    issuer: String,
    audience: String,
    jwks: Mutex<KeySet>,
    /// Where the key set is fetched: the issuer's `/.well-known/jwks.json` unless
    /// configured (`QNET_JWKS_URL`).
    jwks_url: String,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
}

/// The user pool's keys as last fetched, and when.
#[derive(Default)]
struct KeySet {
    keys: Option<Arc<JwkSet>>,
    fetched_at: Option<time::OffsetDateTime>,
}

/// The shortest time between two fetches of the key set caused by unknown key
/// ids, so tokens naming made-up keys cannot make every request fetch it.
pub const JWKS_REFRESH_INTERVAL: time::Duration = time::Duration::minutes(1);

#[derive(Deserialize)]
struct CognitoClaims {
    sub: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "cognito:groups")]
    groups: Vec<String>,
    #[serde(default)]
    token_use: String,
    #[serde(default)]
    email_verified: bool,
}

impl CognitoVerifier {
    pub fn new(issuer: String, audience: String) -> CognitoVerifier {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .expect("an HTTP client with default TLS builds");
        let jwks_url = format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'));
        CognitoVerifier { issuer, audience, jwks: Mutex::new(KeySet::default()), jwks_url, http, clock: Arc::new(SystemClock) }
    }

    /// Fetches the key set from `url` instead of the issuer's (`QNET_JWKS_URL`:
    /// an issuer whose own URL cannot be reached, such as moto's).
    pub fn with_jwks_url(mut self, url: Option<String>) -> CognitoVerifier {
        if let Some(url) = url {
            self.jwks_url = url;
        }
        self
    }

    /// Measures the refresh interval with this clock (the app's, or a test's).
    /// The wall clock is good enough for a rate limit: if it steps back, the
    /// next refresh may come early (a negative age counts as due), never that
    /// keys stay stale for long.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> CognitoVerifier {
        self.clock = clock;
        self
    }

    /// The key that signed a token, fetching the key set on first use. Cognito
    /// rotates its signing keys: a key id not in the set held makes one fresh
    /// fetch, unless the set was fetched less than [`JWKS_REFRESH_INTERVAL`] ago.
    /// The lock makes concurrent requests with a new key wait for one fetch.
    async fn key(&self, kid: &str) -> Result<Option<jsonwebtoken::jwk::Jwk>, Problem> {
        let mut held = self.jwks.lock().await;
        let now = self.clock.now();
        let due = match (&held.keys, held.fetched_at) {
            (None, _) | (_, None) => true,
            (Some(keys), Some(at)) => {
                if let Some(k) = keys.find(kid) {
                    return Ok(Some(k.clone()));
                }
                let age = now - at;
                age >= JWKS_REFRESH_INTERVAL || age.is_negative()
            }
        };
        if due {
            let fetched = self.fetch().await;
            // A failed fetch counts too, so an outage is not hammered per request.
            held.fetched_at = Some(now);
            match fetched {
                Ok(keys) => held.keys = Some(Arc::new(keys)),
                // Keep the keys already held: tokens they signed still verify.
                Err(e) if held.keys.is_some() => {
                    tracing::warn!(error = %e, "could not refresh the user pool's JWKS");
                }
                Err(e) => {
                    held.fetched_at = None;
                    tracing::error!(error = %e, "could not fetch the user pool's JWKS");
                    return Err(Problem::new(
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "The service is unavailable",
                        "sign-in could not be checked; try again shortly",
                    ));
                }
            }
        }
        Ok(held.keys.as_ref().and_then(|k| k.find(kid)).cloned())
    }

    async fn fetch(&self) -> Result<JwkSet, String> {
        let url = &self.jwks_url;
        let r = self.http.get(url).send().await.and_then(|r| r.error_for_status()).map_err(|e| e.to_string())?;
        r.json::<JwkSet>().await.map_err(|e| e.to_string())
    }

    async fn verify(&self, token: &str) -> Result<Claims, Problem> {
        let invalid = || Problem::unauthenticated("the bearer token is not valid");
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        let kid = header.kid.ok_or_else(invalid)?;
        let jwk = self.key(&kid).await?.ok_or_else(invalid)?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| invalid())?;
        let mut v = Validation::new(Algorithm::RS256);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        let data = jsonwebtoken::decode::<CognitoClaims>(token, &key, &v).map_err(|e| {
            if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) {
                Problem::unauthenticated("the bearer token has expired")
            } else {
                invalid()
            }
        })?;
        let c = data.claims;
        if c.token_use != "id" {
            return Err(Problem::unauthenticated("send the ID token, not the access token"));
        }
        // The email is the member's identity here (profiles, emailed submissions):
        // an address the user pool has not verified proves nothing.
        if !c.email_verified || c.email.is_empty() {
            return Err(Problem::unauthenticated("verify your email address, then sign in again"));
        }
        let groups = c.groups.iter().filter_map(|g| qnet_domain::Role::parse(g)).collect();
        Ok(Claims::new(c.sub, c.email, c.name, groups))
    }
}

/// Claims from the API Gateway JWT authorizer, if this request came through one.
fn authorizer_claims(parts: &http::request::Parts) -> Option<Claims> {
    use lambda_http::request::RequestContext;
    let ctx = parts.extensions.get::<RequestContext>()?;
    let RequestContext::ApiGatewayV2(ctx) = ctx else { return None };
    let claims: &HashMap<String, String> = &ctx.authorizer.as_ref()?.jwt.as_ref()?.claims;
    claims_from_map(claims)
}

/// Builds `Claims` from the string map API Gateway passes (groups as
/// `[a b]` or a JSON array). Only an ID token with a verified email counts: an
/// access token carries no email, and an unverified one proves nothing.
pub fn claims_from_map(claims: &HashMap<String, String>) -> Option<Claims> {
    if claims.get("token_use").map(String::as_str) != Some("id")
        || claims.get("email_verified").map(String::as_str) != Some("true")
    {
        return None;
    }
    let sub = claims.get("sub")?.clone();
    let email = claims.get("email").cloned().filter(|e| !e.is_empty())?;
    let name = claims.get("name").cloned().unwrap_or_default();
    let groups = claims.get("cognito:groups").map(|g| parse_groups(g)).unwrap_or_default();
    Some(Claims::new(sub, email, name, groups))
}

/// The caller's identity, resolved once per request by [`identify`].
#[derive(Clone)]
pub struct Caller(pub Option<Arc<Claims>>);

/// Middleware: resolves the caller. A request without a token is anonymous; a
/// request with a bad or expired token is refused (401) even where login is
/// optional, so a client learns its token has lapsed.
pub async fn identify(State((auth, app)): State<(Arc<Authenticator>, qnet_app::App)>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let caller = match authorizer_claims(&parts) {
        Some(c) => Some(c),
        None => match bearer(&parts) {
            Ok(None) => None,
            Ok(Some(token)) => {
                let verified = match auth.as_ref() {
                    Authenticator::Local(t) => t.verify(&token).map_err(|e| match e {
                        TokenError::Expired => Problem::unauthenticated("the bearer token has expired"),
                        TokenError::Invalid => Problem::unauthenticated("the bearer token is not valid"),
                    }),
                    Authenticator::Cognito(v) => v.verify(&token).await,
                };
                match verified {
                    Ok(c) => Some(c),
                    Err(p) => return p.into_response(),
                }
            }
            Err(p) => return p.into_response(),
        },
    };
    // Roles an admin granted through `/admin/roles` count as much as the
    // token's groups, and a revocation counts at once.
    let caller = match caller {
        Some(c) => match app.with_granted_roles(c).await {
            Ok(c) => Some(c),
            Err(e) => return Problem::from(e).into_response(),
        },
        None => None,
    };
    parts.extensions.insert(Caller(caller.map(Arc::new)));
    next.run(Request::from_parts(parts, body)).await
}

fn bearer(parts: &Parts) -> Result<Option<String>, Problem> {
    let Some(v) = parts.headers.get(AUTHORIZATION) else { return Ok(None) };
    let v = v.to_str().map_err(|_| Problem::unauthenticated("the Authorization header is not readable"))?;
    match v.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim().to_string()))
        }
        _ => Err(Problem::unauthenticated("use Authorization: Bearer <token>")),
    }
}

/// Extractor for routes that need login.
pub struct Auth(pub Arc<Claims>);

/// Extractor for routes where login is optional.
pub struct MaybeAuth(pub Option<Arc<Claims>>);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        match parts.extensions.get::<Caller>() {
            Some(Caller(Some(c))) => Ok(Auth(c.clone())),
            _ => Err(Problem::unauthenticated("send a bearer token")),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MaybeAuth {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        Ok(MaybeAuth(parts.extensions.get::<Caller>().and_then(|c| c.0.clone())))
    }
}
