//! A fake Discord on loopback: the REST API (v10) and the gateway WebSocket, enough for a real
//! serenity/poise bot to connect, register its slash commands, receive interactions and answer
//! them. Tests drive it from the user's side (someone joins a voice channel, types `/play`,
//! presses a button) and read back what the bot sent.
//!
//! Point serenity at it with `HttpBuilder::new(token).proxy(fake.base_url())
//! .ratelimiter_disabled(true)`; `GET /api/v10/gateway` then hands the bot this gateway.

mod oauth;
pub mod payloads;
mod server;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

pub use payloads::{FakeGuild, FakeUser};

use crate::FakeError;

/// Knobs for the fake.
#[derive(Debug, Clone)]
pub struct FakeDiscordOptions {
    /// The bot token the fake accepts (`Authorization: Bot <token>`).
    pub token: String,
    pub application_id: u64,
    pub bot_user_id: u64,
    pub bot_name: String,
    /// The application's OAuth2 client secret (the token endpoint checks it).
    pub client_secret: String,
    /// Milliseconds between heartbeats the gateway asks for (Discord: about 41).
    pub heartbeat_interval_ms: u64,
}

impl Default for FakeDiscordOptions {
    fn default() -> Self {
        Self {
            token: "fake-discord-bot-token".into(),
            application_id: 1_100_000_000_000_000_001,
            bot_user_id: 1_100_000_000_000_000_001,
            bot_name: "Marquee".into(),
            client_secret: "fake-discord-client-secret".into(),
            heartbeat_interval_ms: 41_250,
        }
    }
}

/// One REST call the bot made.
#[derive(Debug, Clone)]
pub struct RecordedCall {
    pub method: String,
    pub path: String,
    pub body: Value,
    /// Whether it carried the right `Authorization: Bot …` header.
    pub authorized: bool,
}

/// How the bot answered an interaction (`POST /interactions/{id}/{token}/callback`).
#[derive(Debug, Clone)]
pub struct Reply {
    /// 4 message, 5 deferred, 7 update, 8 autocomplete choices, 12 launch Activity.
    pub kind: u64,
    pub data: Value,
    /// The message created by this reply (types 4 and 5), to read its later edits.
    pub message_id: Option<u64>,
}

impl Reply {
    pub fn content(&self) -> &str {
        self.data["content"].as_str().unwrap_or_default()
    }

    /// Whether only the invoker sees it (flag 64).
    pub fn ephemeral(&self) -> bool {
        self.data["flags"].as_u64().unwrap_or(0) & 64 != 0
    }

    pub fn embeds(&self) -> Vec<Value> {
        self.data["embeds"].as_array().cloned().unwrap_or_default()
    }

    /// Autocomplete choices as (name, value).
    pub fn choices(&self) -> Vec<(String, String)> {
        self.data["choices"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        let value = match &c["value"] {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (c["name"].as_str().unwrap_or_default().to_owned(), value)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A message the bot posted, with every version of it.
#[derive(Debug, Clone)]
pub struct FakeMessage {
    pub id: u64,
    pub channel_id: u64,
    /// The interaction token it answered, for `/webhooks/…/@original`.
    pub interaction_token: Option<String>,
    /// The current body (the original, then each edit applied).
    pub body: Value,
    /// Every edit's payload, oldest first.
    pub edits: Vec<Value>,
    /// Full message JSON as the API returns it.
    pub json: Value,
}

pub(crate) struct State {
    pub opts: FakeDiscordOptions,
    pub addr: Mutex<Option<SocketAddr>>,
    next_id: AtomicU64,
    seq: AtomicU64,
    pub calls: Mutex<Vec<RecordedCall>>,
    pub identify: Mutex<Option<Value>>,
    pub commands: Mutex<Option<Value>>,
    pub guilds: Mutex<Vec<FakeGuild>>,
    /// Gateway connections that identified, fed by `dispatch`.
    pub conns: Mutex<Vec<mpsc::UnboundedSender<String>>>,
    /// Interactions waiting for the bot's callback.
    pub pending: Mutex<HashMap<u64, (u64, oneshot::Sender<Reply>)>>,
    pub messages: Mutex<Vec<FakeMessage>>,
    pub replies: Mutex<HashMap<String, u64>>,
    pub heartbeats: AtomicU64,
    /// Who is signed in to Discord in the browser (the authorize page approves as them).
    pub oauth_user: Mutex<Option<FakeUser>>,
    /// Unused authorization codes: user and the redirect URI they were issued for.
    pub codes: Mutex<HashMap<String, (FakeUser, String)>>,
    /// OAuth2 access tokens handed out, and whose they are.
    pub access_tokens: Mutex<HashMap<String, FakeUser>>,
    /// Running Activity instances by instance id.
    pub instances: Mutex<HashMap<String, ActivityInstance>>,
    /// Discord's rate limit, on demand: the next `n` lookups with the bot token (members,
    /// Activity instances, the bot's servers) answer 429 with this `Retry-After` (seconds).
    pub rate_limited: Mutex<Option<(u32, f64)>>,
}

/// A running Activity: where it was launched and who is in it. Discord creates one when someone
/// launches the Activity in a channel, adds people as they join it, and ends it when the last
/// one leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityInstance {
    pub instance_id: String,
    pub launch_id: String,
    pub channel_id: u64,
    /// `None` for a private channel (a DM or group DM).
    pub guild_id: Option<u64>,
    /// Ids of the people in it, in the order they joined.
    pub users: Vec<u64>,
}

impl State {
    pub fn snowflake(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::SeqCst)
    }

    pub fn bot_user(&self) -> Value {
        payloads::user(self.opts.bot_user_id, &self.opts.bot_name, true)
    }

    /// Sends a dispatch (op 0) to every identified gateway connection.
    pub fn dispatch(&self, event: &str, data: Value) {
        let frame = json!({
            "op": 0,
            "s": self.seq.fetch_add(1, Ordering::SeqCst) + 1,
            "t": event,
            "d": data,
        })
        .to_string();
        lock(&self.conns).retain(|tx| tx.send(frame.clone()).is_ok());
    }

    /// Someone launches or joins an Activity instance (see [`FakeDiscord::join_activity`]).
    pub fn join_instance(&self, instance: &str, channel: u64, guild: Option<u64>, user: u64) {
        let mut instances = lock(&self.instances);
        let entry = instances
            .entry(instance.to_owned())
            .or_insert_with(|| ActivityInstance {
                instance_id: instance.to_owned(),
                launch_id: self.snowflake().to_string(),
                channel_id: channel,
                guild_id: guild,
                users: Vec::new(),
            });
        if !entry.users.contains(&user) {
            entry.users.push(user);
        }
    }

    /// Someone leaves an Activity instance; it ends with its last user.
    pub fn leave_instance(&self, instance: &str, user: u64) {
        let mut instances = lock(&self.instances);
        if let Some(i) = instances.get_mut(instance) {
            i.users.retain(|u| *u != user);
            if i.users.is_empty() {
                instances.remove(instance);
            }
        }
    }

    /// Takes one rate-limited answer, if any are due: the `Retry-After` to send.
    pub fn take_rate_limit(&self) -> Option<f64> {
        let mut limited = lock(&self.rate_limited);
        let (n, wait) = (*limited)?;
        *limited = (n > 1).then_some((n - 1, wait));
        Some(wait)
    }

    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::SeqCst) + 1
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running fake Discord.
pub struct FakeDiscord {
    state: Arc<State>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

/// Waits for tests: how often a condition is re-checked.
const POLL: Duration = Duration::from_millis(10);

impl FakeDiscord {
    /// Starts on a free loopback port.
    pub async fn start(opts: FakeDiscordOptions) -> Result<FakeDiscord, FakeError> {
        Self::start_on(opts, 0).await
    }

    /// Starts on a given loopback port (0: any free one).
    pub async fn start_on(opts: FakeDiscordOptions, port: u16) -> Result<FakeDiscord, FakeError> {
        let state = Arc::new(State {
            next_id: AtomicU64::new(1_200_000_000_000_000_000),
            seq: AtomicU64::new(0),
            opts,
            addr: Mutex::new(None),
            calls: Mutex::default(),
            identify: Mutex::default(),
            commands: Mutex::default(),
            guilds: Mutex::default(),
            conns: Mutex::default(),
            pending: Mutex::default(),
            messages: Mutex::default(),
            replies: Mutex::default(),
            heartbeats: AtomicU64::new(0),
            oauth_user: Mutex::default(),
            codes: Mutex::default(),
            access_tokens: Mutex::default(),
            instances: Mutex::default(),
            rate_limited: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(FakeError::io("binding the fake Discord"))?;
        let addr = listener
            .local_addr()
            .map_err(FakeError::io("reading the fake Discord's address"))?;
        *lock(&state.addr) = Some(addr);
        let app = server::router(Arc::clone(&state));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "fake Discord stopped");
            }
        });
        Ok(FakeDiscord { state, addr, task })
    }

    /// `user` launches (or joins) the Activity instance `instance` in `channel` of `guild`
    /// (`None`: a private channel), as the Discord client does when they press its button.
    pub fn join_activity(&self, instance: &str, channel: u64, guild: Option<u64>, user: u64) {
        self.state.join_instance(instance, channel, guild, user);
    }

    /// `user` closes the Activity; the instance ends with its last user.
    pub fn leave_activity(&self, instance: &str, user: u64) {
        self.state.leave_instance(instance, user);
    }

    /// The next `n` bot-token lookups are rate limited: 429, `Retry-After: retry_after`.
    pub fn rate_limit_next(&self, n: u32, retry_after: f64) {
        *lock(&self.state.rate_limited) = Some((n, retry_after));
    }

    /// The instance as Discord has it now.
    pub fn activity_instance(&self, instance: &str) -> Option<ActivityInstance> {
        lock(&self.state.instances).get(instance).cloned()
    }

    /// How many times the API was asked for `path_part` (e.g. `/activity-instances/`,
    /// `/members/`): tests count lookups to check caching.
    pub fn calls_to(&self, path_part: &str) -> usize {
        lock(&self.state.calls)
            .iter()
            .filter(|c| c.path.contains(path_part))
            .count()
    }

    /// What to give serenity's `HttpBuilder::proxy`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn token(&self) -> &str {
        &self.state.opts.token
    }

    pub fn application_id(&self) -> u64 {
        self.state.opts.application_id
    }

    /// The application's OAuth2 client secret.
    pub fn client_secret(&self) -> &str {
        &self.state.opts.client_secret
    }

    /// Heartbeats the bot has sent (each answered with an ACK).
    pub fn heartbeats(&self) -> u64 {
        self.state.heartbeats.load(Ordering::SeqCst)
    }

    /// Who the authorize page signs in (`None`: the user presses "Cancel").
    pub fn sign_in_as(&self, user: Option<FakeUser>) {
        *lock(&self.state.oauth_user) = user;
    }

    /// An authorization code for `user`, as the Embedded App SDK's `authorize` command returns
    /// (no redirect URI).
    pub fn authorization_code(&self, user: &FakeUser) -> String {
        let code = format!("code-{}", self.state.snowflake());
        lock(&self.state.codes).insert(code.clone(), (user.clone(), String::new()));
        code
    }

    /// Every REST call so far.
    pub fn calls(&self) -> Vec<RecordedCall> {
        lock(&self.state.calls).clone()
    }

    async fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut() -> Option<T>,
    ) -> Result<T, FakeError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(v) = check() {
                return Ok(v);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(FakeError::Timeout(what.to_owned()));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for a bot to identify on the gateway; returns its IDENTIFY payload.
    pub async fn identified(&self, timeout: Duration) -> Result<Value, FakeError> {
        self.wait_for("the bot to identify on the gateway", timeout, || {
            lock(&self.state.identify).clone()
        })
        .await
    }

    /// Waits for the bot to register its global commands; returns the payload it sent.
    pub async fn registered_commands(&self, timeout: Duration) -> Result<Value, FakeError> {
        self.wait_for("the bot to register its commands", timeout, || {
            lock(&self.state.commands).clone()
        })
        .await
    }

    /// Adds a guild: sent to the bot now (GUILD_CREATE) if it is connected, or when it identifies.
    pub fn add_guild(&self, guild: FakeGuild) {
        let payload = payloads::guild_create(&guild);
        lock(&self.state.guilds).push(guild);
        self.state.dispatch("GUILD_CREATE", payload);
    }

    /// Moves a member into a voice channel (or out of voice with `None`).
    pub fn set_voice(&self, guild: u64, user: &FakeUser, channel: Option<u64>) {
        {
            let mut guilds = lock(&self.state.guilds);
            if let Some(g) = guilds.iter_mut().find(|g| g.id == guild) {
                g.voice.retain(|(u, _)| *u != user.id);
                if let Some(c) = channel {
                    g.voice.push((user.id, c));
                }
            }
        }
        self.state.dispatch(
            "VOICE_STATE_UPDATE",
            payloads::voice_state(guild, user.id, channel, Some(user)),
        );
    }

    fn guild(&self) -> FakeGuild {
        lock(&self.state.guilds)
            .first()
            .cloned()
            .expect("add a guild before sending interactions")
    }

    fn interaction(
        &self,
        kind: u64,
        user: &FakeUser,
        data: Value,
        message: Option<Value>,
    ) -> (u64, Value) {
        let g = self.guild();
        let id = self.state.snowflake();
        let mut i = json!({
            "id": id.to_string(),
            "application_id": self.state.opts.application_id.to_string(),
            "type": kind,
            "data": data,
            "guild_id": g.id.to_string(),
            "channel_id": g.text_channel.to_string(),
            "channel": {"id": g.text_channel.to_string(), "type": 0, "name": "movie-night", "guild_id": g.id.to_string()},
            "member": payloads::member(user),
            "token": format!("interaction-token-{id}"),
            "version": 1,
            "app_permissions": "2248473465835073",
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": g.id.to_string()},
            "context": 0,
            "attachment_size_limit": 8_388_608,
        });
        if let Some(m) = message {
            i["message"] = m;
        }
        (id, i)
    }

    async fn send_interaction(
        &self,
        id: u64,
        payload: Value,
        timeout: Duration,
    ) -> Result<Reply, FakeError> {
        let (tx, rx) = oneshot::channel();
        let channel = payload["channel_id"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        lock(&self.state.pending).insert(id, (channel, tx));
        self.state.dispatch("INTERACTION_CREATE", payload);
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(reply)) => Ok(reply),
            _ => {
                lock(&self.state.pending).remove(&id);
                Err(FakeError::Timeout(format!(
                    "the bot to answer interaction {id}"
                )))
            }
        }
    }

    /// `user` runs a slash command; `options` is the interaction's `data.options` array (and
    /// `resolved`, if given as `{"options": [...], "resolved": {...}}`). Returns the bot's reply.
    pub async fn command(
        &self,
        user: &FakeUser,
        name: &str,
        options: Value,
    ) -> Result<Reply, FakeError> {
        let (options, resolved) = split_options(options);
        let data = json!({
            "id": self.command_id(name),
            "name": name,
            "type": 1,
            "options": options,
            "resolved": resolved,
        });
        let (id, payload) = self.interaction(2, user, data, None);
        self.send_interaction(id, payload, Duration::from_secs(10))
            .await
    }

    /// `user` is typing in an autocompleted option (mark it `"focused": true` in `options`).
    pub async fn autocomplete(
        &self,
        user: &FakeUser,
        name: &str,
        options: Value,
    ) -> Result<Reply, FakeError> {
        let data = json!({
            "id": self.command_id(name),
            "name": name,
            "type": 1,
            "options": options,
        });
        let (id, payload) = self.interaction(4, user, data, None);
        self.send_interaction(id, payload, Duration::from_secs(10))
            .await
    }

    /// `user` presses a button with `custom_id` on a message the bot posted.
    pub async fn press(
        &self,
        user: &FakeUser,
        message_id: u64,
        custom_id: &str,
    ) -> Result<Reply, FakeError> {
        let message = self
            .message(message_id)
            .ok_or_else(|| FakeError::Timeout(format!("message {message_id} to exist")))?;
        let data = json!({"custom_id": custom_id, "component_type": 2});
        let (id, payload) = self.interaction(3, user, data, Some(message.json));
        self.send_interaction(id, payload, Duration::from_secs(10))
            .await
    }

    /// The id Discord gave a registered command (the bot checks nothing about it, but real ids
    /// are stable per name).
    fn command_id(&self, name: &str) -> String {
        let sum: u64 = name.bytes().map(u64::from).sum();
        (1_300_000_000_000_000_000u64 + sum).to_string()
    }

    /// A message the bot posted.
    pub fn message(&self, id: u64) -> Option<FakeMessage> {
        lock(&self.state.messages)
            .iter()
            .find(|m| m.id == id)
            .cloned()
    }

    /// Waits until the message satisfies `check` (typically: an edit arrived saying X).
    pub async fn wait_for_message(
        &self,
        id: u64,
        timeout: Duration,
        mut check: impl FnMut(&FakeMessage) -> bool,
    ) -> Result<FakeMessage, FakeError> {
        self.wait_for(&format!("message {id} to change"), timeout, || {
            self.message(id).filter(|m| check(m))
        })
        .await
    }

    /// Stops the fake (gateway connections drop).
    pub fn shutdown(self) {
        self.task.abort();
    }
}

fn split_options(options: Value) -> (Value, Value) {
    match options {
        Value::Object(mut o) if o.contains_key("options") => {
            let resolved = o.remove("resolved").unwrap_or_else(|| json!({}));
            (o.remove("options").unwrap_or_else(|| json!([])), resolved)
        }
        other => (other, json!({})),
    }
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.task.abort();
    }
}
