//! A fake plex.tv: the PIN sign-in (`/api/v2/pins`), the account (`/api/v2/user`), the
//! account's servers (`/api/v2/resources`) and a stand-in for Plex's auth app (`/auth`), where a
//! person picks an account and approves the PIN.
//!
//! It behaves as plex.tv does where a client can tell: a PIN is bound to the
//! `X-Plex-Client-Identifier` that created it (another identifier gets 404), it expires, its
//! `authToken` stays `null` until the person approves, answers are XML unless the client asks
//! for JSON, and a bad token gets 401 with plex.tv's error body. Each user's resources list the
//! fake Plex server with *their own* `accessToken` for it (only if it is shared with them),
//! beside devices that are not servers and a server of their own.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::FakeError;
use crate::plex::FakeAccount;

/// One plex.tv account.
#[derive(Debug, Clone)]
pub struct PlexTvUser {
    pub id: i64,
    pub uuid: String,
    pub username: String,
    pub email: String,
    /// Their plex.tv token (what an approved PIN hands out).
    pub token: String,
    /// Their token for the fake Plex server, if it is shared with them (`None`: the server is
    /// not in their resources).
    pub server_token: Option<String>,
}

/// The Plex server the resources describe.
#[derive(Debug, Clone)]
pub struct ServerResource {
    pub name: String,
    /// The server's `machineIdentifier` (a resource's `clientIdentifier`).
    pub machine_identifier: String,
    /// Where it answers (a local connection).
    pub uri: String,
}

/// Knobs of the fake.
#[derive(Debug, Clone)]
pub struct FakePlexTvOptions {
    pub users: Vec<PlexTvUser>,
    pub server: ServerResource,
    /// How long a PIN lives (plex.tv: 30 minutes for a strong PIN).
    pub pin_ttl: Duration,
}

/// The demo's Plex users, with fresh random tokens: two the server is shared with and one it
/// is not.
pub fn demo_users() -> Vec<PlexTvUser> {
    let token = || uuid::Uuid::new_v4().simple().to_string();
    [
        (5001, "river", true),
        (5002, "juniper", true),
        (5003, "outsider", false),
    ]
    .into_iter()
    .map(|(id, name, shared)| PlexTvUser {
        id,
        uuid: format!("{id:016x}"),
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        token: token(),
        server_token: shared.then(token),
    })
    .collect()
}

/// The fake Plex server's shared accounts for these users (give them to
/// [`crate::plex::FakePlexOptions::accounts`]).
pub fn server_accounts(users: &[PlexTvUser]) -> Vec<FakeAccount> {
    users
        .iter()
        .filter_map(|u| {
            u.server_token
                .clone()
                .map(|token| FakeAccount { id: u.id, token })
        })
        .collect()
}

#[derive(Debug, Clone)]
struct Pin {
    id: i64,
    code: String,
    client: String,
    product: String,
    created: Instant,
    auth_token: Option<String>,
}

struct Inner {
    opts: FakePlexTvOptions,
    pins: Mutex<Vec<Pin>>,
    next_pin: Mutex<i64>,
    /// Requests as (method, path and query), oldest first.
    requests: Mutex<Vec<(String, String)>>,
}

/// Shared state; cheap to clone.
#[derive(Clone)]
pub struct FakePlexTvState {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl FakePlexTvState {
    pub fn new(opts: FakePlexTvOptions) -> Self {
        FakePlexTvState {
            inner: Arc::new(Inner {
                opts,
                pins: Mutex::default(),
                next_pin: Mutex::new(710_000_001),
                requests: Mutex::default(),
            }),
        }
    }

    /// The person signs in as `username` on the auth page and approves the PIN `code` that
    /// `client` asked for. False when no live PIN matches or the user is unknown.
    pub fn approve(&self, client: &str, code: &str, username: &str) -> bool {
        let Some(user) = self
            .inner
            .opts
            .users
            .iter()
            .find(|u| u.username == username)
        else {
            return false;
        };
        let ttl = self.inner.opts.pin_ttl;
        let mut pins = lock(&self.inner.pins);
        match pins
            .iter_mut()
            .find(|p| p.code == code && p.client == client && p.created.elapsed() < ttl)
        {
            Some(pin) => {
                pin.auth_token = Some(user.token.clone());
                true
            }
            None => false,
        }
    }

    /// Requests received as "METHOD /path?query", oldest first.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.inner.requests)
            .iter()
            .map(|(m, p)| format!("{m} {p}"))
            .collect()
    }

    /// The users this fake knows.
    pub fn users(&self) -> &[PlexTvUser] {
        &self.inner.opts.users
    }

    fn user_by_token(
        &self,
        headers: &HeaderMap,
        query: &HashMap<String, String>,
    ) -> Option<&PlexTvUser> {
        let token = headers
            .get("x-plex-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| query.get("X-Plex-Token").cloned())?;
        self.inner.opts.users.iter().find(|u| u.token == token)
    }
}

/// A running fake plex.tv on a loopback port.
pub struct FakePlexTv {
    state: FakePlexTvState,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakePlexTv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakePlexTv")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FakePlexTv {
    /// Bind 127.0.0.1 on an ephemeral port and serve.
    pub async fn start(opts: FakePlexTvOptions) -> Result<FakePlexTv, FakeError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(FakeError::io("binding the fake plex.tv"))?;
        let addr = listener
            .local_addr()
            .map_err(FakeError::io("reading the fake plex.tv's address"))?;
        let state = FakePlexTvState::new(opts);
        let app = router(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakePlexTv { state, addr, task })
    }

    /// `http://127.0.0.1:PORT` (the API's base).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The auth app's address (plex.tv's is `https://app.plex.tv/auth`).
    pub fn auth_url(&self) -> String {
        format!("http://{}/auth", self.addr)
    }

    pub fn state(&self) -> &FakePlexTvState {
        &self.state
    }

    /// Stop serving.
    pub fn shutdown(self) {
        self.task.abort();
    }
}

/// The fake's routes.
pub fn router(state: FakePlexTvState) -> Router {
    Router::new()
        .route("/api/v2/pins", post(create_pin))
        .route("/api/v2/pins/{id}", get(check_pin))
        .route("/api/v2/user", get(user))
        .route("/api/v2/resources", get(resources))
        .route("/auth", get(auth_page))
        .route("/auth/approve", post(approve))
        .layer(axum::middleware::from_fn_with_state(state.clone(), record))
        .with_state(state)
}

async fn record(
    State(state): State<FakePlexTvState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    lock(&state.inner.requests).push((req.method().to_string(), path));
    next.run(req).await
}

fn query_map(uri: &http::Uri) -> HashMap<String, String> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// plex.tv's error body (`{"errors":[{code, message, status}]}`).
fn error(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        axum::Json(
            json!({"errors": [{"code": code, "message": message, "status": status.as_u16()}]}),
        ),
    )
        .into_response()
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("json"))
}

fn client_of(headers: &HeaderMap, query: &HashMap<String, String>) -> Option<String> {
    headers
        .get("x-plex-client-identifier")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query.get("X-Plex-Client-Identifier").cloned())
        .filter(|c| !c.is_empty())
}

fn pin_json(pin: &Pin, ttl: Duration) -> Value {
    let left = ttl.saturating_sub(pin.created.elapsed()).as_secs();
    let now = chrono::Utc::now();
    let created = now - chrono::Duration::from_std(pin.created.elapsed()).unwrap_or_default();
    let expires = created + chrono::Duration::from_std(ttl).unwrap_or_default();
    json!({
        "id": pin.id,
        "code": pin.code,
        "product": pin.product,
        "trusted": false,
        "qr": format!("https://plex.tv/api/v2/pins/qr/{}", pin.code),
        "clientIdentifier": pin.client,
        "location": {"code": "US", "continent_code": "NA", "country": "United States"},
        "expiresIn": left,
        "createdAt": created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "expiresAt": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "authToken": pin.auth_token,
        "newRegistration": Value::Null,
    })
}

/// A PIN as XML, what plex.tv answers a client that does not ask for JSON.
fn pin_xml(pin: &Pin) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<pin id="{}" code="{}" product="{}" trusted="0" clientIdentifier="{}" authToken="{}"/>"#,
        pin.id,
        pin.code,
        pin.product,
        pin.client,
        pin.auth_token.clone().unwrap_or_default()
    )
}

fn pin_answer(status: StatusCode, headers: &HeaderMap, pin: &Pin, ttl: Duration) -> Response {
    if wants_json(headers) {
        (status, axum::Json(pin_json(pin, ttl))).into_response()
    } else {
        (
            status,
            [(header::CONTENT_TYPE, "application/xml")],
            pin_xml(pin),
        )
            .into_response()
    }
}

async fn create_pin(
    State(state): State<FakePlexTvState>,
    uri: http::Uri,
    headers: HeaderMap,
) -> Response {
    let query = query_map(&uri);
    let Some(client) = client_of(&headers, &query) else {
        return error(
            StatusCode::BAD_REQUEST,
            1000,
            "X-Plex-Client-Identifier is missing",
        );
    };
    let product = headers
        .get("x-plex-product")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let strong = query.get("strong").is_some_and(|v| v == "true" || v == "1");
    let alphabet: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let len = if strong { 25 } else { 4 };
    let code: String = (0..len)
        .map(|_| alphabet[rand::random_range(0..alphabet.len())] as char)
        .collect();
    let id = {
        let mut next = lock(&state.inner.next_pin);
        *next += 1;
        *next
    };
    let pin = Pin {
        id,
        code,
        client,
        product,
        created: Instant::now(),
        auth_token: None,
    };
    lock(&state.inner.pins).push(pin.clone());
    pin_answer(
        StatusCode::CREATED,
        &headers,
        &pin,
        state.inner.opts.pin_ttl,
    )
}

async fn check_pin(
    State(state): State<FakePlexTvState>,
    Path(id): Path<String>,
    uri: http::Uri,
    headers: HeaderMap,
) -> Response {
    let query = query_map(&uri);
    let client = client_of(&headers, &query);
    let ttl = state.inner.opts.pin_ttl;
    let pin = lock(&state.inner.pins)
        .iter()
        .find(|p| {
            p.id.to_string() == id
                && Some(&p.client) == client.as_ref()
                && p.created.elapsed() < ttl
        })
        .cloned();
    match pin {
        Some(pin) => pin_answer(StatusCode::OK, &headers, &pin, ttl),
        None => error(StatusCode::NOT_FOUND, 1020, "Code not found or expired"),
    }
}

fn unauthenticated() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        1001,
        "User could not be authenticated",
    )
}

async fn user(
    State(state): State<FakePlexTvState>,
    uri: http::Uri,
    headers: HeaderMap,
) -> Response {
    let query = query_map(&uri);
    let Some(u) = state.user_by_token(&headers, &query) else {
        return unauthenticated();
    };
    axum::Json(json!({
        "id": u.id,
        "uuid": u.uuid,
        "username": u.username,
        "title": u.username,
        "email": u.email,
        "friendlyName": "",
        "locale": Value::Null,
        "confirmed": true,
        "joinedAt": 1_600_000_000,
        "emailOnlyAuth": false,
        "hasPassword": true,
        "protected": false,
        "thumb": format!("https://plex.tv/users/{}/avatar?c=1700000000", u.uuid),
        "authToken": u.token,
        "mailingListStatus": "unsubscribed",
        "mailingListActive": false,
        "scrobbleTypes": "",
        "country": "US",
        "subscription": {"active": false, "subscribedAt": Value::Null, "status": "Inactive", "paymentService": Value::Null, "plan": Value::Null, "features": []},
        "subscriptionDescription": Value::Null,
        "restricted": false,
        "anonymous": Value::Null,
        "home": false,
        "guest": false,
        "homeSize": 1,
        "homeAdmin": false,
        "maxHomeSize": 15,
        "rememberExpiresAt": 1_900_000_000,
        "profile": {"autoSelectAudio": true, "defaultAudioLanguage": "en", "defaultSubtitleLanguage": "en", "autoSelectSubtitle": 0, "defaultSubtitleAccessibility": 0, "defaultSubtitleForced": 1},
        "entitlements": [],
        "roles": [],
        "services": [],
        "adsConsent": Value::Null,
        "adsConsentSetAt": Value::Null,
        "adsConsentReminderAt": Value::Null,
        "experimentalFeatures": false,
        "twoFactorEnabled": false,
        "backupCodesCreated": false,
    }))
    .into_response()
}

/// What a resource (a device of the account) is, beside what every one of them says.
struct Device<'a> {
    name: String,
    product: &'a str,
    platform: &'a str,
    device: &'a str,
    client_identifier: String,
    provides: &'a str,
    /// `(ownerId, sourceTitle)` of a server shared with the account; `None`: its own.
    shared_by: Option<(i64, &'a str)>,
    access_token: Option<String>,
    connections: Vec<Value>,
}

impl Device<'_> {
    fn render(self) -> Value {
        let server = self.provides.contains("server");
        json!({
            "name": self.name,
            "product": self.product,
            "productVersion": if server { "1.41.3.9314-a0bfb8370" } else { "8.40" },
            "platform": self.platform,
            "platformVersion": if server { "6.1" } else { "18.1" },
            "device": self.device,
            "clientIdentifier": self.client_identifier,
            "createdAt": "2024-02-01T10:00:00Z",
            "lastSeenAt": "2026-12-07T05:00:00Z",
            "provides": self.provides,
            "ownerId": self.shared_by.map(|(id, _)| id),
            "sourceTitle": self.shared_by.map(|(_, title)| title),
            "publicAddress": "203.0.113.7",
            "accessToken": self.access_token,
            "owned": self.shared_by.is_none(),
            "home": false,
            "synced": false,
            "relay": server,
            "presence": server,
            "httpsRequired": false,
            "publicAddressMatches": false,
            "dnsRebindingProtection": false,
            "natLoopbackSupported": server,
            "connections": self.connections,
        })
    }
}

fn connection(
    protocol: &str,
    address: &str,
    port: u16,
    uri: &str,
    local: bool,
    relay: bool,
) -> Value {
    json!({
        "protocol": protocol, "address": address, "port": port, "uri": uri,
        "local": local, "relay": relay, "IPv6": false,
    })
}

async fn resources(
    State(state): State<FakePlexTvState>,
    uri: http::Uri,
    headers: HeaderMap,
) -> Response {
    let query = query_map(&uri);
    let Some(u) = state.user_by_token(&headers, &query) else {
        return unauthenticated();
    };
    let relay = query.get("includeRelay").is_some_and(|v| v == "1");
    let https = query.get("includeHttps").is_some_and(|v| v == "1");
    let mut list = vec![
        // A phone: a device, not a server, and with no token for anyone else.
        Device {
            name: format!("{}'s iPhone", u.username),
            product: "Plex for iOS",
            platform: "iOS",
            device: "iPhone",
            client_identifier: format!("phone-{}", u.uuid),
            provides: "client,player,pubsub-player",
            shared_by: None,
            access_token: None,
            connections: Vec::new(),
        }
        .render(),
        // A server of their own, which is not the one Marquee uses.
        Device {
            name: format!("{}'s NAS", u.username),
            product: "Plex Media Server",
            platform: "Linux",
            device: "PC",
            client_identifier: format!("nas-{}", u.uuid),
            provides: "server",
            shared_by: None,
            access_token: Some(format!("own-server-{}", u.uuid)),
            connections: vec![connection(
                "http",
                "192.168.1.20",
                32400,
                "http://192.168.1.20:32400",
                true,
                false,
            )],
        }
        .render(),
    ];
    if let Some(token) = &u.server_token {
        let server = &state.inner.opts.server;
        let port = server
            .uri
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
            .unwrap_or(32400);
        let mut connections = vec![connection(
            "http",
            "127.0.0.1",
            port,
            &server.uri,
            true,
            false,
        )];
        if https {
            connections.push(connection(
                "https",
                "203.0.113.9",
                32400,
                "https://203-0-113-9.0123456789abcdef.plex.direct:32400",
                false,
                false,
            ));
        }
        if relay {
            connections.push(connection(
                "https",
                "198.51.100.4",
                8443,
                "https://198-51-100-4.0123456789abcdef.plex.direct:8443",
                false,
                true,
            ));
        }
        list.push(
            Device {
                name: server.name.clone(),
                product: "Plex Media Server",
                platform: "Linux",
                device: "Docker Container",
                client_identifier: server.machine_identifier.clone(),
                provides: "server",
                shared_by: Some((1, "owner")),
                access_token: Some(token.clone()),
                connections,
            }
            .render(),
        );
    }
    axum::Json(Value::Array(list)).into_response()
}

/// The auth app: reads `clientID` and `code` from the address's fragment (`#?clientID=…`, as
/// Plex's app does, so they never reach a server log) and offers each account.
async fn auth_page(State(state): State<FakePlexTvState>) -> Html<String> {
    let buttons: String = state
        .inner
        .opts
        .users
        .iter()
        .map(|u| {
            format!(
                r#"<button type="button" class="approve" data-user="{0}">Sign in as {0}</button>"#,
                u.username
            )
        })
        .collect();
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Plex (fake) – Sign in</title>
<style>body{{font-family:sans-serif;background:#1f1f1f;color:#eee;padding:2rem}}button{{display:block;margin:.5rem 0;padding:.6rem 1rem;background:#e5a00d;border:0;border-radius:4px;font-weight:bold;cursor:pointer}}</style>
</head><body>
<h1>Plex</h1>
<p id="who">An app asks to sign in with your Plex account.</p>
<div id="choices">{buttons}</div>
<p id="result" role="status"></p>
<script>
const params = new URLSearchParams(location.hash.replace(/^#\??/, ''));
const product = params.get('context[device][product]') || 'An app';
document.getElementById('who').textContent = product + ' asks to sign in with your Plex account.';
for (const b of document.querySelectorAll('button.approve')) {{
  b.addEventListener('click', async () => {{
    const r = await fetch('/auth/approve', {{method: 'POST', headers: {{'content-type': 'application/json'}},
      body: JSON.stringify({{clientID: params.get('clientID'), code: params.get('code'), user: b.dataset.user}})}});
    const result = document.getElementById('result');
    if (!r.ok) {{ result.textContent = 'This sign-in link has expired. Start again from the app.'; return; }}
    const forward = params.get('forwardUrl');
    if (forward) {{ location.href = forward; return; }}
    document.getElementById('choices').remove();
    result.textContent = 'Signed in. You can close this window and go back to ' + product + '.';
  }});
}}
</script>
</body></html>"#
    ))
}

#[derive(Deserialize)]
struct Approval {
    #[serde(rename = "clientID")]
    client_id: Option<String>,
    code: Option<String>,
    user: String,
}

async fn approve(
    State(state): State<FakePlexTvState>,
    axum::Json(a): axum::Json<Approval>,
) -> Response {
    let (Some(client), Some(code)) = (a.client_id, a.code) else {
        return error(
            StatusCode::BAD_REQUEST,
            1000,
            "clientID and code are required",
        );
    };
    if state.approve(&client, &code, &a.user) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(StatusCode::NOT_FOUND, 1020, "Code not found or expired")
    }
}
