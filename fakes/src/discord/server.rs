//! The fake's HTTP side: REST routes under `/api/v10` and the gateway at `/gw`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{any, get};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{FakeMessage, RecordedCall, Reply, State, lock, payloads};

type S = AxState<Arc<State>>;

pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/gw", get(gateway))
        .route("/api/v10/gateway", get(gateway_url))
        .route("/api/v10/gateway/bot", get(gateway_bot))
        .route("/api/v10/users/@me", get(super::oauth::me))
        .route("/api/v10/users/@me/guilds", get(bot_guilds))
        .route(
            "/api/v10/oauth2/token",
            axum::routing::post(super::oauth::token),
        )
        .route("/oauth2/authorize", get(super::oauth::authorize))
        .route("/api/v10/applications/{app}/commands", any(commands))
        .route(
            "/api/v10/applications/{app}/guilds/{guild}/commands",
            any(commands),
        )
        .route("/api/v10/guilds/{guild}/members/{user}", get(guild_member))
        .route(
            "/api/v10/applications/{app}/activity-instances/{instance}",
            get(activity_instance),
        )
        .route("/api/v10/interactions/{id}/{token}/callback", any(callback))
        .route(
            "/api/v10/webhooks/{app}/{token}/messages/{message}",
            any(webhook_message),
        )
        .route("/api/v10/webhooks/{app}/{token}", any(followup))
        .route(
            "/api/v10/channels/{channel}/messages",
            any(channel_messages),
        )
        .route(
            "/api/v10/channels/{channel}/messages/{message}",
            any(channel_message),
        )
        .route("/_fake/sign-in", axum::routing::post(control_sign_in))
        .route(
            "/_fake/activity-instances/{instance}/{action}",
            axum::routing::post(control_activity),
        )
        .route(
            "/_fake/authorization-code",
            axum::routing::post(control_authorization_code),
        )
        .fallback(unknown)
        .with_state(state)
}

fn record(
    state: &State,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> (Value, bool) {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let expected = format!("Bot {}", state.opts.token);
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected || v == state.opts.token);
    lock(&state.calls).push(RecordedCall {
        method: method.to_string(),
        path: uri.path().to_owned(),
        body: body.clone(),
        authorized,
    });
    (body, authorized)
}

fn error(status: StatusCode, code: u64, message: &str) -> Response {
    (status, Json(json!({"message": message, "code": code}))).into_response()
}

/// Discord's 429: `Retry-After` in seconds, and the same in the body.
fn rate_limited(retry_after: f64) -> Response {
    let mut r = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": false})),
    )
        .into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("{retry_after}")) {
        r.headers_mut().insert("retry-after", v);
    }
    r
}

/// The start of every lookup made with the bot token: record the call, then the refusal Discord
/// would give, if any: 401 without the bot token, or 429 when a rate limit is due.
fn bot_refusal(state: &State, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
    if !record(state, method, uri, headers, &Bytes::new()).1 {
        return Some(unauthorized());
    }
    state.take_rate_limit().map(rate_limited)
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized")
}

async fn unknown(
    AxState(state): S,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&state, &method, &uri, &headers, &body);
    error(StatusCode::NOT_FOUND, 0, "404: Not Found")
}

async fn gateway_url(AxState(state): S) -> Json<Value> {
    let addr = lock(&state.addr).expect("bound");
    Json(json!({"url": format!("ws://{addr}/gw")}))
}

async fn gateway_bot(AxState(state): S, headers: HeaderMap) -> Response {
    let addr = lock(&state.addr).expect("bound");
    if !headers.contains_key("authorization") {
        return unauthorized();
    }
    Json(json!({
        "url": format!("ws://{addr}/gw"),
        "shards": 1,
        "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
    }))
    .into_response()
}

/// `GET /api/v10/guilds/{guild}/members/{user}` with the bot token: the member object (roles
/// included); 404 `Unknown Guild` (10004) or `Unknown Member` (10007) as Discord answers.
async fn guild_member(
    AxState(state): S,
    Path((guild, user)): Path<(u64, u64)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = bot_refusal(&state, &method, &uri, &headers) {
        return refused;
    }
    let guilds = lock(&state.guilds);
    let Some(g) = guilds.iter().find(|g| g.id == guild) else {
        return error(StatusCode::NOT_FOUND, 10004, "Unknown Guild");
    };
    match g.members.iter().find(|m| m.id == user) {
        Some(m) => Json(payloads::member(m)).into_response(),
        None => error(StatusCode::NOT_FOUND, 10007, "Unknown Member"),
    }
}

/// `GET /users/@me/guilds` with the bot token: the servers the bot is in (partial guilds).
async fn bot_guilds(AxState(state): S, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if let Some(refused) = bot_refusal(&state, &method, &uri, &headers) {
        return refused;
    }
    let guilds: Vec<Value> = lock(&state.guilds)
        .iter()
        .map(|g| json!({"id": g.id.to_string(), "name": g.name, "icon": null, "owner": false, "permissions": "0", "features": []}))
        .collect();
    Json(Value::Array(guilds)).into_response()
}

/// `GET /applications/{app}/activity-instances/{instance}` with the bot token: Discord's
/// `EmbeddedActivityInstance` (its location and users), 404 for an instance that is not running
/// (or another application's).
async fn activity_instance(
    AxState(state): S,
    Path((app, instance)): Path<(u64, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = bot_refusal(&state, &method, &uri, &headers) {
        return refused;
    }
    let found = lock(&state.instances).get(&instance).cloned();
    match found {
        Some(i) if app == state.opts.application_id => {
            Json(payloads::activity_instance(app, &i)).into_response()
        }
        _ => error(StatusCode::NOT_FOUND, 10_064, "Unknown Activity Instance"),
    }
}

/// The fake Discord client's side: `POST /_fake/activity-instances/{instance}/join` with
/// `{user_id, channel_id, guild_id}` (a launch or a join), or `…/leave` with `{user_id}`.
async fn control_activity(
    AxState(state): S,
    Path((instance, action)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let id = |v: &Value| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    };
    let Some(user) = id(&body["user_id"]) else {
        return error(StatusCode::BAD_REQUEST, 50_035, "user_id is required");
    };
    match action.as_str() {
        "join" => {
            let Some(channel) = id(&body["channel_id"]) else {
                return error(StatusCode::BAD_REQUEST, 50_035, "channel_id is required");
            };
            state.join_instance(&instance, channel, id(&body["guild_id"]), user);
        }
        "leave" => state.leave_instance(&instance, user),
        _ => return error(StatusCode::NOT_FOUND, 0, "join or leave"),
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn commands(
    AxState(state): S,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (body, authorized) = record(&state, &method, &uri, &headers, &body);
    if !authorized {
        return unauthorized();
    }
    if method != Method::PUT {
        return Json(lock(&state.commands).clone().unwrap_or(json!([]))).into_response();
    }
    *lock(&state.commands) = Some(body.clone());
    let app = state.opts.application_id.to_string();
    let created: Vec<Value> = body
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut c| {
            c["id"] = json!(state.snowflake().to_string());
            c["application_id"] = json!(app);
            c["version"] = json!(state.snowflake().to_string());
            c["default_member_permissions"] = c
                .get("default_member_permissions")
                .cloned()
                .unwrap_or(Value::Null);
            c["type"] = c.get("type").cloned().unwrap_or(json!(1));
            c
        })
        .collect();
    Json(Value::Array(created)).into_response()
}

/// Creates the message an interaction reply makes, and remembers it under the reply's token.
fn create_message(state: &State, channel: u64, body: &Value, token: Option<&str>) -> FakeMessage {
    let id = state.snowflake();
    let json = payloads::message(
        id,
        channel,
        &state.bot_user(),
        body,
        token.map(|_| state.opts.application_id),
    );
    let message = FakeMessage {
        id,
        channel_id: channel,
        interaction_token: token.map(str::to_owned),
        body: body.clone(),
        edits: Vec::new(),
        json,
    };
    lock(&state.messages).push(message.clone());
    message
}

fn edit_message(state: &State, id: u64, patch: &Value) -> Option<FakeMessage> {
    let mut messages = lock(&state.messages);
    let m = messages.iter_mut().find(|m| m.id == id)?;
    if let (Some(body), Some(patch)) = (m.body.as_object_mut(), patch.as_object()) {
        for (k, v) in patch {
            body.insert(k.clone(), v.clone());
        }
    }
    m.edits.push(patch.clone());
    m.json = payloads::message(
        m.id,
        m.channel_id,
        &state.bot_user(),
        &m.body,
        m.interaction_token
            .as_ref()
            .map(|_| state.opts.application_id),
    );
    m.json["edited_timestamp"] = json!(payloads::TIMESTAMP);
    Some(m.clone())
}

async fn callback(
    AxState(state): S,
    Path((id, token)): Path<(u64, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (body, _) = record(&state, &method, &uri, &headers, &body);
    let Some((channel, waiter)) = lock(&state.pending).remove(&id) else {
        return error(
            StatusCode::BAD_REQUEST,
            40060,
            "Interaction has already been acknowledged.",
        );
    };
    if token != format!("interaction-token-{id}") {
        return error(StatusCode::UNAUTHORIZED, 50027, "Invalid Webhook Token");
    }
    let kind = body["type"].as_u64().unwrap_or(0);
    let data = body.get("data").cloned().unwrap_or(json!({}));
    let message_id = matches!(kind, 4 | 5).then(|| {
        let m = create_message(&state, channel, &data, Some(&token));
        lock(&state.replies).insert(token.clone(), m.id);
        m.id
    });
    let _ = waiter.send(Reply {
        kind,
        data,
        message_id,
    });
    StatusCode::NO_CONTENT.into_response()
}

async fn webhook_message(
    AxState(state): S,
    Path((_app, token, message)): Path<(u64, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (body, _) = record(&state, &method, &uri, &headers, &body);
    let id = if message == "@original" {
        lock(&state.replies).get(&token).copied()
    } else {
        message.parse().ok()
    };
    let Some(id) = id else {
        return error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
    };
    let found = match method {
        Method::PATCH => edit_message(&state, id, &body),
        Method::DELETE => {
            lock(&state.messages).retain(|m| m.id != id);
            return StatusCode::NO_CONTENT.into_response();
        }
        _ => lock(&state.messages).iter().find(|m| m.id == id).cloned(),
    };
    match found {
        Some(m) => Json(m.json).into_response(),
        None => error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
    }
}

async fn followup(
    AxState(state): S,
    Path((_app, token)): Path<(u64, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (body, _) = record(&state, &method, &uri, &headers, &body);
    let channel = lock(&state.replies).get(&token).and_then(|id| {
        lock(&state.messages)
            .iter()
            .find(|m| m.id == *id)
            .map(|m| m.channel_id)
    });
    let Some(channel) = channel else {
        return error(StatusCode::NOT_FOUND, 10015, "Unknown Webhook");
    };
    let m = create_message(&state, channel, &body, Some(&token));
    Json(m.json).into_response()
}

async fn channel_messages(
    AxState(state): S,
    Path(channel): Path<u64>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (body, authorized) = record(&state, &method, &uri, &headers, &body);
    if !authorized {
        return unauthorized();
    }
    if method != Method::POST {
        return error(StatusCode::METHOD_NOT_ALLOWED, 0, "405: Method Not Allowed");
    }
    Json(create_message(&state, channel, &body, None).json).into_response()
}

async fn channel_message(
    AxState(state): S,
    Path((channel, message)): Path<(u64, u64)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (body, authorized) = record(&state, &method, &uri, &headers, &body);
    if !authorized {
        return unauthorized();
    }
    let in_channel = lock(&state.messages)
        .iter()
        .any(|m| m.id == message && m.channel_id == channel);
    if !in_channel {
        return error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
    }
    let found = match method {
        Method::PATCH => edit_message(&state, message, &body),
        _ => lock(&state.messages)
            .iter()
            .find(|m| m.id == message)
            .cloned(),
    };
    match found {
        Some(m) => Json(m.json).into_response(),
        None => error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
    }
}

async fn gateway(AxState(state): S, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| gateway_session(state, socket))
}

/// One gateway connection: HELLO, then IDENTIFY → READY + GUILD_CREATEs, heartbeats answered,
/// and every later dispatch pushed through the connection's queue.
async fn gateway_session(state: Arc<State>, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let interval = state.opts.heartbeat_interval_ms;
    let hello = json!({"op": 10, "d": {"heartbeat_interval": interval}, "s": null, "t": null});
    if sink
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if sink.send(Message::Text(frame.into())).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(frame)) = stream.next().await {
        let text = match frame {
            Message::Text(t) => t.to_string(),
            Message::Close(_) => break,
            _ => continue,
        };
        let Ok(msg) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        match msg["op"].as_u64() {
            Some(1) => {
                state
                    .heartbeats
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = tx.send(json!({"op": 11, "d": null, "s": null, "t": null}).to_string());
            }
            Some(2) => {
                let mut identify = msg["d"].clone();
                let token = identify["token"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_start_matches("Bot ")
                    .to_owned();
                if token != state.opts.token {
                    let _ = tx.send(json!({"op": 9, "d": false, "s": null, "t": null}).to_string());
                    continue;
                }
                identify["token"] = json!("[checked]");
                let addr = lock(&state.addr).expect("bound");
                let ready = json!({
                    "op": 0,
                    "s": state.next_seq(),
                    "t": "READY",
                    "d": {
                        "v": 10,
                        "user": state.bot_user(),
                        "guilds": lock(&state.guilds).iter().map(|g| json!({"id": g.id.to_string(), "unavailable": true})).collect::<Vec<_>>(),
                        "session_id": format!("gateway-session-{}", state.snowflake()),
                        "resume_gateway_url": format!("ws://{addr}/gw"),
                        "shard": [0, 1],
                        "application": {"id": state.opts.application_id.to_string(), "flags": 0},
                    },
                });
                let _ = tx.send(ready.to_string());
                let guilds: Vec<Value> = lock(&state.guilds)
                    .iter()
                    .map(payloads::guild_create)
                    .collect();
                for g in guilds {
                    let frame =
                        json!({"op": 0, "s": state.next_seq(), "t": "GUILD_CREATE", "d": g});
                    let _ = tx.send(frame.to_string());
                }
                lock(&state.conns).push(tx.clone());
                *lock(&state.identify) = Some(identify);
            }
            _ => {}
        }
    }
    writer.abort();
}

/// Test control (not part of Discord's API): who is signed in to Discord in "the browser".
/// Body: `{"id": "…", "username": "…"}`, or `null` to make the consent screen refuse.
/// Test control: an OAuth2 code for `{"id", "username"}`, as the Embedded App SDK's
/// `authorize` gets one from Discord's client (no redirect URI). The fake parent page of the
/// Activity tests asks for one when the Activity calls AUTHORIZE.
async fn control_authorization_code(AxState(state): S, Json(body): Json<Value>) -> Response {
    let Some(id) = body["id"].as_str().and_then(|id| id.parse().ok()) else {
        return error(StatusCode::BAD_REQUEST, 50035, "id: a user snowflake");
    };
    let user = super::FakeUser::new(id, body["username"].as_str().unwrap_or("someone"));
    let code = format!("code-{}", state.snowflake());
    lock(&state.codes).insert(code.clone(), (user, String::new()));
    Json(json!({"code": code})).into_response()
}

async fn control_sign_in(AxState(state): S, Json(body): Json<Value>) -> StatusCode {
    let user = body["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .map(|id| super::FakeUser::new(id, body["username"].as_str().unwrap_or("someone")));
    *lock(&state.oauth_user) = user;
    StatusCode::NO_CONTENT
}
