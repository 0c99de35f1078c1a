//! Signing in with Discord: OAuth2 for the standalone page, then Marquee's own session as a
//! short-lived JWT access token and a rotating refresh token, both in HttpOnly cookies.
//!
//! A refresh token works once: using it gives a new pair. Presenting a used one means a copy
//! leaked, so every token of that sign-in (its family) is revoked and the user signs in again.

pub mod activity;
pub mod allowed;
pub mod bot_api;
pub mod discord;
pub mod limits;
pub mod roles;
pub mod routes;
pub mod tokens;

use std::time::Duration;

use axum::http::HeaderMap;
use cookie::{Cookie, SameSite};
use marquee_store::{NewRefreshToken, Rotation, Store, User};

use discord::DiscordOAuth;
use marquee_store::secret::{hash_secret, new_secret};
use tokens::{AccessKeys, Claims, TokenError};

// Every cookie's name carries the `__Host-` prefix: a browser stores such a cookie only from
// this very host, Secure, with `Path=/` and no `Domain`. So a page on a sibling subdomain
// cannot plant ("toss") its own sign-in, refresh token or OAuth state into a viewer's browser
// for Marquee to read, which it could with a plain name and `Domain=` the parent domain.

/// Cookie holding the access token (sent with every request).
pub const ACCESS_COOKIE: &str = "__Host-marquee_access";
/// Cookie holding the refresh token (`SameSite=Strict`, read only by `/auth/refresh` and
/// `/auth/logout`).
pub const REFRESH_COOKIE: &str = "__Host-marquee_refresh";
/// Cookie binding an OAuth2 round trip to the browser that started it.
pub const STATE_COOKIE: &str = "__Host-marquee_oauth_state";

/// The names (and paths) older Marquees used, deleted whenever cookies are set, so an
/// upgraded browser does not keep carrying a token nothing reads.
const LEGACY_COOKIES: [(&str, &str); 4] = [
    ("marquee_access", "/"),
    ("marquee_refresh", "/auth"),
    ("marquee_oauth_state", "/auth"),
    ("marquee_signed_in", "/"),
];

/// Why a request is not signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("not signed in")]
    NotSignedIn,
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl AuthError {
    /// The machine-readable code in 401 bodies; `token_expired` tells the page to refresh.
    pub fn code(self) -> &'static str {
        match self {
            AuthError::NotSignedIn => "not_signed_in",
            AuthError::Token(TokenError::Expired) => "token_expired",
            AuthError::Token(TokenError::Invalid) => "invalid_token",
            AuthError::Token(TokenError::Revoked) => "signed_out",
        }
    }
}

/// A fresh pair of cookies for a signed-in user.
pub struct Issued {
    pub access: String,
    pub refresh: String,
}

/// Sign-in state shared by the routes.
pub struct Auth {
    pub keys: AccessKeys,
    pub refresh_ttl: Duration,
    /// `None` when no Discord client id/secret is configured (sign-in is then off).
    pub discord: Option<DiscordOAuth>,
    /// Base URL of this server, for the OAuth2 redirect URI.
    pub public_url: String,
    pub store: Store,
    /// Sign-in requests per client address.
    pub limits: limits::Limiter,
    /// Server functions and the JSON API, per client address.
    pub api_limits: limits::Limiter,
    /// Who may use this Marquee (the `allowed` claim of every token issued).
    pub admission: allowed::Admission,
    /// Sign-ins ended before their access tokens expire.
    pub revoked: Revocations,
    /// Derives a refresh token's successor (see [`Auth::refresh`]); kept apart from the
    /// access-token key by deriving it with its own label.
    pub successor_key: Vec<u8>,
}

/// Sign-ins that ended (signed out, or a refresh token replayed): their access tokens are
/// refused until they would have expired anyway. Kept in the shared cache, so every web
/// server refuses them.
#[derive(Clone, Debug)]
pub struct Revocations {
    pub cache: marquee_store::Cache,
}

impl Revocations {
    fn key(family: &str) -> String {
        format!("auth:revoked:{family}")
    }

    /// Marks `family` ended (for the session tier's lifetime, far longer than an access
    /// token's).
    pub async fn revoke(&self, family: &str) {
        let set = self
            .cache
            .set(marquee_store::Tier::Session, &Self::key(family), &true)
            .await;
        if let Err(err) = set {
            tracing::warn!(%err, "could not record an ended sign-in; its access tokens live until they expire");
        }
    }

    /// Whether `family` has ended. A token from before sign-ins had ids (`""`) never has.
    pub async fn is_revoked(&self, family: &str) -> bool {
        if family.is_empty() {
            return false;
        }
        match self.cache.get::<bool>(&Self::key(family)).await {
            Ok(found) => found.unwrap_or(false),
            Err(err) => {
                tracing::warn!(%err, "could not check for an ended sign-in");
                false
            }
        }
    }
}

/// How long after a refresh token's use a second request presenting it still gets the same
/// successor (two tabs refreshing at once) rather than revoking the sign-in as a replay.
pub const REFRESH_GRACE: Duration = Duration::from_secs(10);

impl Auth {
    /// The OAuth2 redirect URI registered with Discord.
    pub fn redirect_uri(&self) -> String {
        format!("{}/auth/callback", self.public_url)
    }

    async fn claims_for(&self, user: &User, family: &str) -> Claims {
        let allowed = self.admission.allows(&user.discord_id).await;
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: user.id.to_string(),
            did: user.discord_id.clone(),
            name: user.username.clone(),
            allowed,
            iat: now,
            exp: now + self.keys.ttl.as_secs() as i64,
            iss: tokens::ISSUER.into(),
            aud: tokens::AUDIENCE.into(),
            sid: family.to_owned(),
        }
    }

    fn refresh_expiry(&self) -> chrono::NaiveDateTime {
        chrono::Utc::now().naive_utc()
            + chrono::TimeDelta::from_std(self.refresh_ttl).unwrap_or(chrono::TimeDelta::days(30))
    }

    /// Starts a new sign-in (a new refresh family) for `user`.
    pub async fn sign_in(&self, user: &User) -> Result<Issued, marquee_store::StoreError> {
        let refresh = new_secret();
        let family = uuid::Uuid::new_v4().simple().to_string();
        self.store
            .insert_refresh_token(&NewRefreshToken {
                token_hash: hash_secret(&refresh),
                user_id: user.id,
                family: family.clone(),
                expires_at: self.refresh_expiry(),
            })
            .await?;
        Ok(Issued {
            access: self.keys.sign(&self.claims_for(user, &family).await),
            refresh,
        })
    }

    /// Records the Discord user (new, or with a changed name or avatar) and starts a sign-in for
    /// them: the end of both the standalone page's OAuth2 callback and the Activity's sign-in.
    pub async fn sign_in_discord_user(
        &self,
        user: &discord::DiscordUser,
    ) -> Result<Issued, marquee_store::StoreError> {
        let stored = self
            .store
            .upsert_user(&user.id, user.display_name(), user.avatar.as_deref())
            .await?;
        let issued = self.sign_in(&stored).await?;
        self.store.record_audit_later(marquee_store::NewAuditEvent {
            actor: user.display_name().to_owned(),
            actor_id: Some(marquee_sync::member::discord(&user.id).to_string()),
            action: "sign_in".into(),
            session_id: None,
            detail: "{}".into(),
        });
        Ok(issued)
    }

    /// Trades a refresh token for a new pair (see the module docs for reuse).
    pub async fn refresh(
        &self,
        refresh: &str,
    ) -> Result<Result<Issued, Rotation>, marquee_store::StoreError> {
        // Derived, not random: a concurrent refresh of the same token computes the same one.
        let next = marquee_store::secret::derive_secret(&self.successor_key, refresh);
        let outcome = self
            .store
            .rotate_refresh_token(
                &hash_secret(refresh),
                &hash_secret(&next),
                self.refresh_expiry(),
                REFRESH_GRACE,
            )
            .await?;
        let Rotation::Rotated { user_id, family } = outcome else {
            if let Rotation::Reused { family } = &outcome {
                tracing::warn!(
                    family,
                    "a used refresh token was presented again; the sign-in is revoked"
                );
                // Whoever holds its access tokens (the thief, perhaps) is out too.
                self.revoked.revoke(family).await;
            }
            return Ok(Err(outcome));
        };
        let Some(user) = self.store.user_by_id(user_id).await? else {
            return Ok(Err(Rotation::Unknown));
        };
        Ok(Ok(Issued {
            access: self.keys.sign(&self.claims_for(&user, &family).await),
            refresh: next,
        }))
    }

    /// Ends the sign-in the refresh token belongs to: its refresh tokens, its access tokens
    /// (checked on every request) and its WebSockets (checked every few seconds).
    pub async fn sign_out(&self, refresh: &str) -> Result<(), marquee_store::StoreError> {
        if let Some(family) = self.store.refresh_family_of(&hash_secret(refresh)).await? {
            self.store.revoke_refresh_family(&family).await?;
            self.revoked.revoke(&family).await;
        }
        Ok(())
    }

    /// [`Auth::current`], refusing a token whose sign-in has ended.
    pub async fn current_live(&self, headers: &HeaderMap) -> Result<Claims, AuthError> {
        let claims = self.current(headers)?;
        self.live(claims).await
    }

    /// A token's claims if it is valid and its sign-in has not ended.
    pub async fn verify_live(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.keys.verify(token)?;
        self.live(claims).await
    }

    async fn live(&self, claims: Claims) -> Result<Claims, AuthError> {
        if self.revoked.is_revoked(&claims.sid).await {
            return Err(AuthError::Token(TokenError::Revoked));
        }
        Ok(claims)
    }

    /// Who is signed in: the access cookie (or an `Authorization: Bearer` header).
    pub fn current(&self, headers: &HeaderMap) -> Result<Claims, AuthError> {
        let bearer = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let token = bearer
            .or_else(|| cookie_value(headers, ACCESS_COOKIE))
            .ok_or(AuthError::NotSignedIn)?;
        Ok(self.keys.verify(&token)?)
    }

    /// The `Set-Cookie` values for a new pair (and the deletion of any legacy cookies).
    pub fn cookies(&self, issued: &Issued) -> Vec<String> {
        let mut cookies = vec![
            hint_cookie(Some(self.refresh_ttl)),
            build_cookie(
                ACCESS_COOKIE,
                &issued.access,
                SameSite::Lax,
                Some(self.keys.ttl),
            ),
            build_cookie(
                REFRESH_COOKIE,
                &issued.refresh,
                SameSite::Strict,
                Some(self.refresh_ttl),
            ),
        ];
        cookies.extend(legacy_deletions());
        cookies
    }

    /// `Set-Cookie` values that delete both cookies and the hint.
    pub fn cleared_cookies() -> Vec<String> {
        let mut cookies = vec![
            hint_cookie(Some(Duration::ZERO)),
            build_cookie(ACCESS_COOKIE, "", SameSite::Lax, Some(Duration::ZERO)),
            build_cookie(REFRESH_COOKIE, "", SameSite::Strict, Some(Duration::ZERO)),
        ];
        cookies.extend(legacy_deletions());
        cookies
    }
}

/// Deletions of the cookies older Marquees set under names without the prefix.
fn legacy_deletions() -> impl Iterator<Item = String> {
    LEGACY_COOKIES.iter().map(|(name, path)| {
        Cookie::build((*name, ""))
            .path(*path)
            .max_age(cookie::time::Duration::ZERO)
            .build()
            .to_string()
    })
}

/// The script-readable "this browser has a sign-in" hint (no secret in it), so a page whose
/// access cookie expired knows to refresh.
fn hint_cookie(max_age: Option<Duration>) -> String {
    let mut c = Cookie::build((app::components::account::SIGNED_IN_HINT, "1"))
        .secure(true)
        .same_site(SameSite::Lax)
        .path("/");
    if let Some(age) = max_age {
        c = c.max_age(cookie::time::Duration::seconds(age.as_secs() as i64));
    }
    c.build().to_string()
}

/// An HttpOnly `__Host-` cookie: Secure, `Path=/`, no `Domain` (what the prefix demands).
/// Browsers accept Secure cookies from `http://localhost` and `127.0.0.1`, so this works in
/// development too.
pub fn build_cookie(
    name: &str,
    value: &str,
    same_site: SameSite,
    max_age: Option<Duration>,
) -> String {
    debug_assert!(
        name.starts_with("__Host-"),
        "{name} lacks the __Host- prefix"
    );
    let mut c = Cookie::build((name.to_owned(), value.to_owned()))
        .http_only(true)
        .secure(true)
        .same_site(same_site)
        .path("/");
    if let Some(age) = max_age {
        c = c.max_age(cookie::time::Duration::seconds(age.as_secs() as i64));
    }
    c.build().to_string()
}

/// A cookie's value from the request.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}
