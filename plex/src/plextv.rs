//! plex.tv: signing a person in with a PIN and finding their token for one Plex server.
//!
//! The flow (as Plex's own apps do it): [`PlexTv::create_pin`] asks plex.tv for a PIN bound to
//! this install's client identifier; the person opens [`PlexTv::auth_app_url`] and approves;
//! [`PlexTv::check_pin`] (about once a second) sees the PIN's `authToken` appear; with it,
//! [`PlexTv::user`] says who they are and [`PlexTv::resources`] lists their servers, each with
//! the person's own `accessToken` for that server.

use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::PlexError;

/// Where plex.tv is and who is asking.
#[derive(Debug, Clone)]
pub struct PlexTvConfig {
    /// `https://plex.tv` (a fake in tests and the demo).
    pub base_url: Url,
    /// Plex's auth app, `https://app.plex.tv/auth`.
    pub auth_url: Url,
    /// The same stable identifier the install sends its Plex server.
    pub client_identifier: String,
    /// `X-Plex-Product`: what the auth app tells the person is asking.
    pub product: String,
    pub version: String,
    pub timeout: Duration,
}

/// A sign-in PIN.
#[derive(Debug, Clone)]
pub struct Pin {
    pub id: i64,
    pub code: String,
    /// Set once the person approved.
    pub auth_token: Option<SecretString>,
    /// Seconds left.
    pub expires_in: u64,
}

/// A plex.tv account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlexUser {
    pub id: i64,
    pub username: String,
    pub thumb: Option<String>,
}

/// One of an account's devices (a server when `provides` names `server`).
#[derive(Debug, Clone)]
pub struct Resource {
    pub name: String,
    pub client_identifier: String,
    pub provides: String,
    /// The account's token for this server.
    pub access_token: Option<SecretString>,
    pub owned: bool,
}

impl Resource {
    pub fn is_server(&self) -> bool {
        self.provides.split(',').any(|p| p.trim() == "server")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PinBody {
    id: i64,
    code: String,
    auth_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct UserBody {
    id: i64,
    username: Option<String>,
    title: Option<String>,
    thumb: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceBody {
    #[serde(default)]
    name: String,
    client_identifier: String,
    #[serde(default)]
    provides: String,
    access_token: Option<String>,
    #[serde(default)]
    owned: bool,
}

/// plex.tv client; cheap to clone.
#[derive(Debug, Clone)]
pub struct PlexTv {
    cfg: PlexTvConfig,
    http: reqwest::Client,
    headers: HeaderMap,
}

impl PlexTv {
    pub fn new(mut cfg: PlexTvConfig) -> Result<Self, PlexError> {
        // API paths are joined onto the base: a base with a path must end in `/` to keep it.
        if !cfg.base_url.path().ends_with('/') {
            let path = format!("{}/", cfg.base_url.path());
            cfg.base_url.set_path(&path);
        }
        for url in [&cfg.base_url, &cfg.auth_url] {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(PlexError::InvalidConfig(format!(
                    "plex.tv URL must be http or https, not {}",
                    url.scheme()
                )));
            }
        }
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in [
            ("x-plex-client-identifier", cfg.client_identifier.as_str()),
            ("x-plex-product", cfg.product.as_str()),
            ("x-plex-version", cfg.version.as_str()),
        ] {
            let value = HeaderValue::from_str(value).map_err(|_| {
                PlexError::InvalidConfig(format!("{name} has characters not allowed in a header"))
            })?;
            headers.insert(HeaderName::from_static(name), value);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(cfg.timeout)
            .timeout(cfg.timeout)
            .user_agent(format!("{}/{}", cfg.product, cfg.version))
            .build()
            .map_err(|e| PlexError::InvalidConfig(format!("HTTP client: {e}")))?;
        Ok(PlexTv { cfg, http, headers })
    }

    /// Where the person approves `code` (the parameters go in the fragment, as Plex's app
    /// reads them).
    pub fn auth_app_url(&self, code: &str) -> String {
        let mut fragment = url::form_urlencoded::Serializer::new(String::new());
        fragment
            .append_pair("clientID", &self.cfg.client_identifier)
            .append_pair("code", code)
            .append_pair("context[device][product]", &self.cfg.product);
        let mut url = self.cfg.auth_url.clone();
        url.set_fragment(Some(&format!("?{}", fragment.finish())));
        url.to_string()
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&SecretString>,
    ) -> Result<T, PlexError> {
        let url = self
            .cfg
            .base_url
            .join(path)
            .map_err(|e| PlexError::InvalidInput(format!("bad plex.tv path {path}: {e}")))?;
        let mut request = self.http.request(method, url).headers(self.headers.clone());
        if let Some(token) = token {
            let mut value = HeaderValue::from_str(token.expose_secret())
                .map_err(|_| PlexError::InvalidInput("token is not a header value".into()))?;
            value.set_sensitive(true);
            request = request.header("x-plex-token", value);
        }
        let path_only = path.split('?').next().unwrap_or(path).to_owned();
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                PlexError::Timeout
            } else if e.is_connect() {
                PlexError::Unreachable {
                    base_url: self.cfg.base_url.to_string(),
                    source: e,
                }
            } else {
                PlexError::Request { source: e }
            }
        })?;
        match response.status() {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(PlexError::Unauthorized);
            }
            StatusCode::NOT_FOUND => return Err(PlexError::NotFound { path: path_only }),
            s => return Err(PlexError::Status { status: s.as_u16() }),
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| PlexError::Request { source: e })?;
        serde_json::from_slice(&body).map_err(|e| PlexError::Malformed {
            what: format!("plex.tv {path_only}"),
            source: Box::new(e),
        })
    }

    /// A new strong PIN for this install.
    pub async fn create_pin(&self) -> Result<Pin, PlexError> {
        let body: PinBody = self
            .call(Method::POST, "api/v2/pins?strong=true", None)
            .await?;
        Ok(pin(body))
    }

    /// The PIN as plex.tv has it now: `NotFound` once it expired (or for another install's).
    pub async fn check_pin(&self, id: i64) -> Result<Pin, PlexError> {
        let body: PinBody = self
            .call(Method::GET, &format!("api/v2/pins/{id}"), None)
            .await?;
        Ok(pin(body))
    }

    /// Who a plex.tv token belongs to.
    pub async fn user(&self, token: &SecretString) -> Result<PlexUser, PlexError> {
        let body: UserBody = self.call(Method::GET, "api/v2/user", Some(token)).await?;
        Ok(PlexUser {
            id: body.id,
            username: body
                .username
                .or(body.title)
                .unwrap_or_else(|| format!("Plex user {}", body.id)),
            thumb: body.thumb,
        })
    }

    /// The account's devices and servers.
    pub async fn resources(&self, token: &SecretString) -> Result<Vec<Resource>, PlexError> {
        let body: Vec<ResourceBody> = self
            .call(
                Method::GET,
                "api/v2/resources?includeHttps=1&includeRelay=1",
                Some(token),
            )
            .await?;
        Ok(body
            .into_iter()
            .map(|r| Resource {
                name: r.name,
                client_identifier: r.client_identifier,
                provides: r.provides,
                access_token: r.access_token.filter(|t| !t.is_empty()).map(Into::into),
                owned: r.owned,
            })
            .collect())
    }
}

fn pin(body: PinBody) -> Pin {
    Pin {
        id: body.id,
        code: body.code,
        auth_token: body.auth_token.filter(|t| !t.is_empty()).map(Into::into),
        expires_in: body.expires_in.unwrap_or(0),
    }
}
