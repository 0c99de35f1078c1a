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

/// Cookie holding the access token (sent with every request).
pub const ACCESS_COOKIE: &str = "marquee_access";
/// Cookie holding the refresh token (sent only to `/auth`).
pub const REFRESH_COOKIE: &str = "marquee_refresh";
/// Cookie binding an OAuth2 round trip to the browser that started it.
pub const STATE_COOKIE: &str = "marquee_oauth_state";

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
}

impl Auth {
    /// The OAuth2 redirect URI registered with Discord.
    pub fn redirect_uri(&self) -> String {
        format!("{}/auth/callback", self.public_url)
    }

    async fn claims_for(&self, user: &User) -> Claims {
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
        }
    }

    fn refresh_expiry(&self) -> chrono::NaiveDateTime {
        chrono::Utc::now().naive_utc()
            + chrono::TimeDelta::from_std(self.refresh_ttl).unwrap_or(chrono::TimeDelta::days(30))
    }

    /// Starts a new sign-in (a new refresh family) for `user`.
    pub async fn sign_in(&self, user: &User) -> Result<Issued, marquee_store::StoreError> {
        let refresh = new_secret();
        self.store
            .insert_refresh_token(&NewRefreshToken {
                token_hash: hash_secret(&refresh),
                user_id: user.id,
                family: uuid::Uuid::new_v4().simple().to_string(),
                expires_at: self.refresh_expiry(),
            })
            .await?;
        Ok(Issued {
            access: self.keys.sign(&self.claims_for(user).await),
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
        self.sign_in(&stored).await
    }

    /// Trades a refresh token for a new pair (see the module docs for reuse).
    pub async fn refresh(
        &self,
        refresh: &str,
    ) -> Result<Result<Issued, Rotation>, marquee_store::StoreError> {
        let next = new_secret();
        let outcome = self
            .store
            .rotate_refresh_token(
                &hash_secret(refresh),
                &hash_secret(&next),
                self.refresh_expiry(),
            )
            .await?;
        let Rotation::Rotated { user_id, .. } = outcome else {
            if let Rotation::Reused { family } = &outcome {
                tracing::warn!(
                    family,
                    "a used refresh token was presented again; the sign-in is revoked"
                );
            }
            return Ok(Err(outcome));
        };
        let Some(user) = self.store.user_by_id(user_id).await? else {
            return Ok(Err(Rotation::Unknown));
        };
        Ok(Ok(Issued {
            access: self.keys.sign(&self.claims_for(&user).await),
            refresh: next,
        }))
    }

    /// Ends the sign-in the refresh token belongs to.
    pub async fn sign_out(&self, refresh: &str) -> Result<(), marquee_store::StoreError> {
        if let Some(family) = self.store.refresh_family_of(&hash_secret(refresh)).await? {
            self.store.revoke_refresh_family(&family).await?;
        }
        Ok(())
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

    /// The `Set-Cookie` values for a new pair.
    pub fn cookies(&self, issued: &Issued) -> [String; 3] {
        [
            hint_cookie(Some(self.refresh_ttl)),
            build_cookie(
                ACCESS_COOKIE,
                &issued.access,
                "/",
                SameSite::Lax,
                Some(self.keys.ttl),
            ),
            build_cookie(
                REFRESH_COOKIE,
                &issued.refresh,
                "/auth",
                SameSite::Strict,
                Some(self.refresh_ttl),
            ),
        ]
    }

    /// `Set-Cookie` values that delete both cookies.
    pub fn cleared_cookies() -> [String; 3] {
        [
            hint_cookie(Some(Duration::ZERO)),
            build_cookie(ACCESS_COOKIE, "", "/", SameSite::Lax, Some(Duration::ZERO)),
            build_cookie(
                REFRESH_COOKIE,
                "",
                "/auth",
                SameSite::Strict,
                Some(Duration::ZERO),
            ),
        ]
    }
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

/// An HttpOnly, Secure cookie. Browsers accept Secure cookies from `http://localhost` and
/// `127.0.0.1`, so this works in development too.
pub fn build_cookie(
    name: &str,
    value: &str,
    path: &str,
    same_site: SameSite,
    max_age: Option<Duration>,
) -> String {
    let mut c = Cookie::build((name.to_owned(), value.to_owned()))
        .http_only(true)
        .secure(true)
        .same_site(same_site)
        .path(path.to_owned());
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
