//! Discord's OAuth2 endpoints, from the server side: the authorize URL people are sent to, and
//! exchanging the code they come back with (the client secret never leaves the server).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The Discord user behind a code.
#[derive(Debug, Clone, Deserialize)]
pub struct DiscordUser {
    pub id: String,
    pub username: String,
    #[serde(default)]
    pub global_name: Option<String>,
    #[serde(default)]
    pub avatar: Option<String>,
}

impl DiscordUser {
    /// The name to show: the display name if set, else the username.
    pub fn display_name(&self) -> &str {
        self.global_name.as_deref().unwrap_or(&self.username)
    }
}

/// A code exchanged: who it belongs to, and the Discord access token it bought.
pub struct Exchanged {
    pub user: DiscordUser,
    pub access_token: SecretString,
}

/// Why a code could not be turned into a user.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("the sign-in code is invalid or has expired; please sign in again")]
    InvalidCode,
    #[error(
        "Discord refused Marquee's client id or secret; check MARQUEE_DISCORD_CLIENT_ID and MARQUEE_DISCORD_CLIENT_SECRET"
    )]
    Misconfigured,
    #[error("Discord could not be reached ({0}); try again in a moment")]
    Unavailable(String),
}

impl OAuthError {
    /// What the person is told: a fixed sentence. An unreachable Discord's detail is logged
    /// under the request's reference instead of being shown.
    pub fn public_message(&self) -> String {
        match self {
            OAuthError::Unavailable(_) => format!(
                "Discord could not be reached; try again in a moment (reference {}).",
                app::ssr::errors::log_internal("Discord sign-in", self)
            ),
            other => super::routes::sentence(&other.to_string()),
        }
    }
}

/// Talks to Discord's OAuth2 endpoints.
pub struct DiscordOAuth {
    http: reqwest::Client,
    /// `https://discord.com`, or a fake's address in tests.
    base: String,
    pub client_id: String,
    client_secret: SecretString,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
}

impl DiscordOAuth {
    pub fn new(base: &str, client_id: String, client_secret: SecretString) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .expect("an HTTP client with a timeout builds (rustls, no system state)"),
            base: base.trim_end_matches('/').to_owned(),
            client_id,
            client_secret,
        }
    }

    /// Where to send the browser to sign in.
    pub fn authorize_url(&self, redirect_uri: &str, state: &str) -> String {
        let mut url =
            url::Url::parse(&format!("{}/oauth2/authorize", self.base)).unwrap_or_else(|_| {
                url::Url::parse("https://discord.com/oauth2/authorize").expect("valid")
            });
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", "identify")
            .append_pair("state", state)
            .append_pair("prompt", "none");
        url.into()
    }

    /// Exchanges a code for the user it belongs to. `redirect_uri` is the one the code was
    /// issued for (none for codes from the Embedded App SDK).
    pub async fn user_for_code(
        &self,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> Result<DiscordUser, OAuthError> {
        Ok(self.exchange(code, redirect_uri).await?.user)
    }

    /// Exchanges a code for the user and their Discord access token. The Activity needs the
    /// token: the Embedded App SDK's `authenticate` takes it in the browser.
    pub async fn exchange(
        &self,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> Result<Exchanged, OAuthError> {
        let unavailable =
            |e: reqwest::Error| OAuthError::Unavailable(app::ssr::errors::chain(&e.without_url()));
        let mut form = vec![
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("grant_type", "authorization_code"),
            ("code", code),
        ];
        if let Some(uri) = redirect_uri {
            form.push(("redirect_uri", uri));
        }
        let response = self
            .http
            .post(format!("{}/api/v10/oauth2/token", self.base))
            .form(&form)
            .send()
            .await
            .map_err(unavailable)?;
        match response.status().as_u16() {
            200 => {}
            401 => return Err(OAuthError::Misconfigured),
            400 => return Err(OAuthError::InvalidCode),
            other => return Err(OAuthError::Unavailable(format!("HTTP {other}"))),
        }
        let token: TokenResponse = response.json().await.map_err(unavailable)?;
        let response = self
            .http
            .get(format!("{}/api/v10/users/@me", self.base))
            .bearer_auth(&token.access_token)
            .send()
            .await
            .map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(OAuthError::Unavailable(format!(
                "reading the user: HTTP {}",
                response.status().as_u16()
            )));
        }
        let user = response.json().await.map_err(unavailable)?;
        Ok(Exchanged {
            user,
            access_token: SecretString::from(token.access_token),
        })
    }
}
