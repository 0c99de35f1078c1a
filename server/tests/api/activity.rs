//! The Discord Activity's server side, against the fake Discord: the SDK's code exchanged for a
//! Marquee sign-in, the Activity bound to its voice channel's session (the one the real bot
//! started, or one the Activity starts), the WebSocket joined with the token from the body, token
//! refresh, and clear refusals; and the server's control role, which the Activity and the
//! standalone page both honour. Every flow runs in the embedded and the scale-out mode.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use marquee_fakes::discord::{FakeDiscord, FakeDiscordOptions, FakeGuild, FakeUser};
use marquee_sync::Role;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::viewer::{Ws, admin_token, snapshot};
use crate::helpers::{Mode, TestApp, both_modes, spawn_app_with};

const GUILD: u64 = 900_000_000_000_000_100;
const TEXT: u64 = 900_000_000_000_000_101;
const CINEMA: u64 = 900_000_000_000_000_102;
const LOUNGE: u64 = 900_000_000_000_000_103;
const DJ: u64 = 900_000_000_000_000_110;
const WAIT: Duration = Duration::from_secs(10);

pub(crate) struct World {
    pub app: TestApp,
    pub discord: FakeDiscord,
    pub http: reqwest::Client,
    pub ana: FakeUser,
    pub ben: FakeUser,
    pub cleo: FakeUser,
}

/// Marquee with its bot and Discord sign-in, on a fake guild where Ana, Ben and Cleo sit in the
/// "Cinema" voice channel.
pub(crate) async fn world(mode: Mode) -> World {
    let discord = FakeDiscord::start(FakeDiscordOptions::default())
        .await
        .unwrap();
    let ana = FakeUser::new(900_000_000_000_000_001, "ana");
    let ben = FakeUser::new(900_000_000_000_000_002, "ben");
    let cleo = FakeUser::new(900_000_000_000_000_003, "cleo").with_roles(&[DJ]);
    discord.add_guild(FakeGuild {
        id: GUILD,
        name: "Movie Club".into(),
        owner_id: ana.id,
        text_channel: TEXT,
        voice_channels: vec![CINEMA, LOUNGE],
        roles: vec![(DJ, "DJ".into())],
        members: vec![ana.clone(), ben.clone(), cleo.clone()],
        voice: vec![(ana.id, CINEMA), (ben.id, CINEMA), (cleo.id, CINEMA)],
    });
    let (token, base, id, secret) = (
        discord.token().to_owned(),
        discord.base_url(),
        discord.application_id().to_string(),
        discord.client_secret().to_owned(),
    );
    let app = spawn_app_with(mode, move |c| {
        c.discord_token = Some(token.into());
        c.discord_api_url = Some(base);
        c.discord_client_id = Some(id);
        c.discord_client_secret = Some(secret.into());
        c.bot_in_server = Some(true);
        c.discord_activity = true;
        if c.redis_url.is_some() {
            c.jwt_secret = Some("a-shared-test-key-for-every-server".to_string().into());
        }
    })
    .await;
    discord.identified(WAIT).await.unwrap();
    discord.registered_commands(WAIT).await.unwrap();
    World {
        app,
        discord,
        http: reqwest::Client::new(),
        ana,
        ben,
        cleo,
    }
}

impl World {
    async fn post(&self, path: &str, body: Value, bearer: Option<&str>) -> (u16, Value) {
        let mut request = self.http.post(self.app.url(path)).json(&body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let r = request.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// `user` opens the Activity `instance` in `channel` (Discord now lists them in it), and the
    /// page does what it does after `authorize`: sends the code with its launch parameters.
    async fn sign_in(&self, user: &FakeUser, instance: &str, channel: u64) -> Value {
        self.discord
            .join_activity(instance, channel, Some(GUILD), user.id);
        let code = self.discord.authorization_code(user);
        let (status, body) = self
            .post(
                "/api/activity/sign-in",
                json!({"code": code, "instance_id": instance, "channel_id": channel.to_string(), "guild_id": GUILD.to_string()}),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Ana types `/play Harbor Lights` in the Cinema (the bot starts and links its session).
    async fn ana_plays_in_the_cinema(&self) {
        let reply = self
            .discord
            .command(
                &self.ana,
                "play",
                json!([{"name": "title", "type": 3, "value": "Harbor Lights"}]),
            )
            .await
            .unwrap();
        assert_eq!(reply.kind, 4, "{:?}", reply.data);
    }

    /// The standalone page's sign-in (Marquee → Discord's consent page → back) as `user`; the
    /// access cookie it ends with, as a `Cookie` header value.
    pub(crate) async fn web_sign_in(&self, user: &FakeUser) -> String {
        use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let cookie_of = |r: &reqwest::Response, name: &str| {
            r.headers()
                .get_all(SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok()?.split(';').next()?.split_once('='))
                .find(|(n, _)| *n == name)
                .map(|(n, v)| format!("{n}={v}"))
                .unwrap()
        };
        self.discord.sign_in_as(Some(user.clone()));
        let r = http.get(self.app.url("/auth/login")).send().await.unwrap();
        let state = cookie_of(&r, "__Host-marquee_oauth_state");
        let to_discord = r.headers()[LOCATION].to_str().unwrap().to_owned();
        let r = http.get(&to_discord).send().await.unwrap();
        let back = r.headers()[LOCATION].to_str().unwrap().to_owned();
        let r = http.get(&back).header(COOKIE, state).send().await.unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
        cookie_of(&r, "__Host-marquee_access")
    }

    /// The server lets the host and DJs drive (`/settings control`), and Ana `/play`s in the
    /// Cinema; the session's id.
    async fn djs_drive_and_ana_plays(&self) -> String {
        self.app
            .running
            .services
            .store
            .set_preference(
                &bot::service::guild_scope(GUILD),
                bot::permissions::PREFERENCE_KEY,
                &json!({"mode": "role", "role_id": DJ}),
            )
            .await
            .unwrap();
        self.ana_plays_in_the_cinema().await;
        self.link(CINEMA).await.unwrap().session_id
    }

    /// Cleo's (a DJ) and Ben's roles in `session`.
    fn djs_and_others(&self, session: &marquee_sync::Session) -> (Option<Role>, Option<Role>) {
        let role = |user: &FakeUser| {
            session
                .member(&format!("discord-{}", user.id))
                .map(|m| m.role)
        };
        (role(&self.cleo), role(&self.ben))
    }

    async fn link(&self, channel: u64) -> Option<marquee_store::ChannelLink> {
        self.app
            .running
            .services
            .store
            .channel_link(&channel.to_string())
            .await
            .unwrap()
    }
}

/// Opens the session's WebSocket without cookies and says hello with `token`; the first
/// welcome or error that comes back.
async fn hello_with_token(app: &TestApp, session: &str, token: &str) -> (Ws, Value) {
    hello_as(app, session, Some(token), None).await
}

/// Opens the session's WebSocket, with `cookie` on the upgrade request if given (the standalone
/// page), and says hello, with `token` in it if given (the Activity); the first welcome or error
/// that comes back.
async fn hello_as(
    app: &TestApp,
    session: &str,
    token: Option<&str>,
    cookie: Option<&str>,
) -> (Ws, Value) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!(
        "{}/ws/session/{session}",
        app.running.url().replace("http://", "ws://")
    );
    let mut request = url.into_client_request().unwrap();
    if let Some(c) = cookie {
        request.headers_mut().insert("cookie", c.parse().unwrap());
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let hello = json!({"type": "hello", "protocol": 1, "name": "Someone", "token": token});
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] == "welcome" || v["type"] == "error" {
                return (ws, v);
            }
        }
    }
}

both_modes! {
    world => [
        the_activity_joins_the_session_the_bot_started,
        an_activity_in_a_quiet_channel_starts_its_session,
        the_activity_refreshes_its_tokens_and_bad_launches_are_refused,
        the_servers_control_role_drives_from_the_activity,
        the_servers_control_role_drives_from_the_web_page,
        a_forged_launch_puts_nobody_in_a_channel_they_are_not_in,
        role_lookups_are_cached_across_reconnects,
        a_rate_limited_lookup_waits_out_retry_after,
    ],
}

/// Review item 1: the page's `channel_id` / `guild_id` are the browser's word. Eve, who is in
/// no voice channel of the server, sends the Cinema's ids with Ben's instance id: refused, with
/// no tokens. With her own Activity, launched in the Lounge, she gets the Lounge, whatever her
/// page says, and cannot start (and so capture) the Cinema's session.
async fn a_forged_launch_puts_nobody_in_a_channel_they_are_not_in(w: World) {
    w.ana_plays_in_the_cinema().await;
    let cinema_session = w.link(CINEMA).await.unwrap().session_id;
    w.discord
        .join_activity("i-cinema-ben", CINEMA, Some(GUILD), w.ben.id);
    let eve = FakeUser::new(900_000_000_000_000_066, "eve");
    let forged = |code: &str, instance: &str| json!({"code": code, "instance_id": instance, "channel_id": CINEMA.to_string(), "guild_id": GUILD.to_string()});

    // Ben's instance, the Cinema's ids: Discord does not list Eve in it.
    let code = w.discord.authorization_code(&eve);
    let (status, refused) = w
        .post("/api/activity/sign-in", forged(&code, "i-cinema-ben"), None)
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"], "not_in_activity");
    assert!(refused.get("access_token").is_none(), "{refused}");
    assert!(
        snapshot(&w.app, &cinema_session)
            .await
            .member(&format!("discord-{}", eve.id))
            .is_none(),
        "Eve is not enrolled in the Cinema's session"
    );

    // Her own Activity in the Lounge, with a page that claims the Cinema.
    w.discord
        .join_activity("i-eve", LOUNGE, Some(GUILD), eve.id);
    let code = w.discord.authorization_code(&eve);
    let (status, body) = w
        .post("/api/activity/sign-in", forged(&code, "i-eve"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["session"],
        Value::Null,
        "the Lounge has no session: {body}"
    );
    let access = body["access_token"].as_str().unwrap().to_owned();

    // Starting with Ben's instance is refused; with hers it starts the Lounge's, not the Cinema's.
    let start = |instance: &str| json!({"instance_id": instance, "channel_id": CINEMA.to_string(), "guild_id": GUILD.to_string(), "rating_key": "102"});
    let (status, refused) = w
        .post("/api/activity/start", start("i-cinema-ben"), Some(&access))
        .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (403, Some("not_in_activity"))
    );
    let (status, started) = w
        .post("/api/activity/start", start("i-eve"), Some(&access))
        .await;
    assert_eq!(status, 200, "{started}");
    assert_ne!(started["session"]["id"], cinema_session.as_str());
    assert_eq!(
        w.link(CINEMA).await.unwrap().session_id,
        cinema_session,
        "the Cinema is still Ana's"
    );
    assert_eq!(
        w.link(LOUNGE).await.unwrap().session_id,
        started["session"]["id"].as_str().unwrap()
    );

    // Once she closes the Activity, her instance no longer admits her (after the short cache).
    w.discord.leave_activity("i-eve", eve.id);
    assert_eq!(w.discord.activity_instance("i-eve"), None);
}

/// Review item 10: a viewer whose page reconnects again and again does not make Marquee ask
/// Discord for their roles every time (Discord bans addresses that make too many requests).
async fn role_lookups_are_cached_across_reconnects(w: World) {
    let session = w.djs_drive_and_ana_plays().await;
    // Ben holds no DJ role, so every join of his would ask again without a cache (and so
    // would his sign-in, which checks he is a member of the bot's server).
    let before = w.discord.calls_to("/members/");
    let ben = w.web_sign_in(&w.ben).await;
    for _ in 0..5 {
        let (_ws, welcome) = hello_as(&w.app, &session, None, Some(&ben)).await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
    }
    let lookups = w.discord.calls_to("/members/") - before;
    assert_eq!(lookups, 1, "member lookups for a sign-in and five joins");
    let (_, ben_role) = w.djs_and_others(&snapshot(&w.app, &session).await);
    assert_eq!(ben_role, Some(Role::Viewer));
}

/// `/play` in the Cinema, then Ben launches the Activity there: he lands in the bot's session,
/// the instance is bound to the channel, and his WebSocket joins as his Discord member.
async fn the_activity_joins_the_session_the_bot_started(w: World) {
    w.ana_plays_in_the_cinema().await;
    let started = w.link(CINEMA).await.expect("the bot linked the channel");
    assert_eq!(started.activity_instance_id, None);

    let body = w.sign_in(&w.ben, "i-cinema-1", CINEMA).await;
    assert_eq!(body["session"]["id"], started.session_id.as_str(), "{body}");
    assert_eq!(body["session"]["title"], "Harbor Lights");
    assert_eq!(body["user"]["name"], "ben");
    assert_eq!(body["user"]["discord_id"], w.ben.id.to_string());
    assert!(
        body["discord_access_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "the SDK's authenticate needs Discord's token: {body}"
    );
    assert_eq!(
        w.link(CINEMA)
            .await
            .unwrap()
            .activity_instance_id
            .as_deref(),
        Some("i-cinema-1"),
        "the instance is bound to the channel's session"
    );

    // The token from the body joins the WebSocket as Ben's Discord member (no cookie at all).
    let access = body["access_token"].as_str().unwrap();
    let (_ws, welcome) = hello_with_token(&w.app, &started.session_id, access).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(welcome["member"], format!("discord-{}", w.ben.id));
    assert!(welcome["session"]["playback"]["playing"].as_bool().unwrap());

    // Cleo, in the same Activity: the same session.
    let cleo = w.sign_in(&w.cleo, "i-cinema-1", CINEMA).await;
    assert_eq!(cleo["session"]["id"], started.session_id.as_str());

    // The bot, the Activity and the web share it: the bot's /pause reaches Ben's socket.
    let session = snapshot(&w.app, &started.session_id).await;
    assert!(session.member(&format!("discord-{}", w.ben.id)).is_some());
    let reply = w.discord.command(&w.ana, "pause", json!([])).await.unwrap();
    assert_eq!(reply.kind, 4, "{:?}", reply.data);
    let paused = snapshot(&w.app, &started.session_id).await;
    assert!(!paused.playback.playing);
}

/// Nothing plays in the Lounge: the Activity says so, the user picks a film and becomes host of
/// the channel's new session; the next launch there joins it.
async fn an_activity_in_a_quiet_channel_starts_its_session(w: World) {
    let body = w.sign_in(&w.ana, "i-lounge-1", LOUNGE).await;
    assert_eq!(body["session"], Value::Null, "{body}");
    let access = body["access_token"].as_str().unwrap().to_owned();
    let start = |key: &str| json!({"instance_id": "i-lounge-1", "channel_id": LOUNGE.to_string(), "guild_id": GUILD.to_string(), "rating_key": key});

    let (status, refused) = w.post("/api/activity/start", start("101"), None).await;
    assert_eq!(status, 401, "{refused}");
    assert_eq!(refused["error"], "not_signed_in");
    let (status, refused) = w
        .post("/api/activity/start", start("999999"), Some(&access))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("Nothing in the library matches"),
        "{refused}"
    );
    assert_eq!(w.link(LOUNGE).await, None, "a refused start links nothing");

    let (status, started) = w
        .post("/api/activity/start", start("101"), Some(&access))
        .await;
    assert_eq!(status, 200, "{started}");
    let id = started["session"]["id"].as_str().unwrap().to_owned();
    let session = snapshot(&w.app, &id).await;
    assert_eq!(
        session.host().map(|h| h.id.clone()),
        Some(format!("discord-{}", w.ana.id))
    );
    // Plex has a resume point for Harbor Lights: the session waits, paused at the start and
    // not yet started, for the person in the Activity to pick Resume or Start over.
    assert!(!session.playback.playing);
    assert_eq!(session.playback.position, 0.0);
    assert!(!session.ending.started);
    let link = w.link(LOUNGE).await.unwrap();
    assert_eq!(
        (
            link.session_id.as_str(),
            link.activity_instance_id.as_deref()
        ),
        (id.as_str(), Some("i-lounge-1"))
    );

    // Ben launches it too, and starts something else at the same moment: he joins Ana's.
    let ben = w.sign_in(&w.ben, "i-lounge-1", LOUNGE).await;
    assert_eq!(ben["session"]["id"], id.as_str());
    let (_, again) = w
        .post(
            "/api/activity/start",
            start("102"),
            ben["access_token"].as_str(),
        )
        .await;
    assert_eq!(
        again["session"]["id"],
        id.as_str(),
        "one session per channel"
    );
}

/// Tokens rotate through `/api/activity/refresh`; an expired or forged token is refused at the
/// WebSocket with a typed error; codes work once; bad launch parameters get a sentence.
async fn the_activity_refreshes_its_tokens_and_bad_launches_are_refused(w: World) {
    let body = w.sign_in(&w.ana, "i-cinema-2", CINEMA).await;
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let (status, fresh) = w
        .post(
            "/api/activity/refresh",
            json!({"refresh_token": refresh}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{fresh}");
    assert_ne!(fresh["refresh_token"], refresh.as_str());
    assert!(fresh["expires_in"].as_u64().unwrap() > 0);
    // The Activity moves on to the next token; the first one presented again is a replay.
    let (status, next) = w
        .post(
            "/api/activity/refresh",
            json!({"refresh_token": fresh["refresh_token"]}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{next}");
    let (status, replay) = w
        .post(
            "/api/activity/refresh",
            json!({"refresh_token": refresh}),
            None,
        )
        .await;
    assert_eq!(
        (status, replay["error"].as_str()),
        (401, Some("refresh_reused"))
    );

    // A forged token at the WebSocket: a typed error and the 4401 close, not a silent guest.
    let (status, created) = w
        .post(
            "/api/sessions",
            json!({"rating_key": "101", "name": "Host"}),
            Some(admin_token(&w.app)),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let session = created["id"].as_str().unwrap();
    let (mut ws, refused) = hello_with_token(&w.app, session, "not.a.token").await;
    assert_eq!(refused["code"], "sign_in_expired", "{refused}");
    let closed = loop {
        match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(closed, Some(4401));

    // A code works once.
    w.discord
        .join_activity("i-3", CINEMA, Some(GUILD), w.ana.id);
    let code = w.discord.authorization_code(&w.ana);
    let launch = |code: &str, instance: &str, channel: Option<&str>| json!({"code": code, "instance_id": instance, "channel_id": channel, "guild_id": GUILD.to_string()});
    let cinema = CINEMA.to_string();
    let (status, _) = w
        .post(
            "/api/activity/sign-in",
            launch(&code, "i-3", Some(&cinema)),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, again) = w
        .post(
            "/api/activity/sign-in",
            launch(&code, "i-3", Some(&cinema)),
            None,
        )
        .await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_code"))
    );
    assert_eq!(
        again["message"],
        "The sign-in code is invalid or has expired; please sign in again."
    );

    // Launch parameters that do not describe a running Activity: Discord knows no "i-4".
    let code = w.discord.authorization_code(&w.ana);
    let (status, no_instance) = w
        .post("/api/activity/sign-in", launch(&code, "i-4", None), None)
        .await;
    assert_eq!(
        (status, no_instance["error"].as_str()),
        (403, Some("not_in_activity")),
        "{no_instance}"
    );
    let (status, bad_instance) = w
        .post(
            "/api/activity/sign-in",
            launch(&code, "<script>", Some(&cinema)),
            None,
        )
        .await;
    assert_eq!(
        (status, bad_instance["error"].as_str()),
        (400, Some("bad_launch"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_discord_sign_in_the_activity_says_what_is_missing() {
    let app = spawn_app_with(Mode::Embedded, |_| {}).await;
    let r = reqwest::Client::new()
        .post(app.url("/api/activity/sign-in"))
        .json(&json!({"code": "x", "instance_id": "i-1", "channel_id": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "sign_in_off");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("MARQUEE_DISCORD_CLIENT_ID")
    );
}

/// `/settings control` names a role (DJ): in the Activity, Cleo (who has it) joins as a co-host
/// and may pause; Ben (who has not) joins as a viewer and is refused, with the reason. Both sign
/// in with the `identify` scope only: their roles come from the bot's lookup.
async fn the_servers_control_role_drives_from_the_activity(w: World) {
    let id = w.djs_drive_and_ana_plays().await;

    // Ana, the host, drives from the voice channel and has not opened the Activity: Ben opens it
    // first, and does not become host for it.
    let ben = w.sign_in(&w.ben, "i-dj", CINEMA).await;
    let cleo = w.sign_in(&w.cleo, "i-dj", CINEMA).await;

    let (mut ben_ws, welcome) =
        hello_with_token(&w.app, &id, ben["access_token"].as_str().unwrap()).await;
    assert_eq!(welcome["type"], "welcome");
    let refused = try_pause(&mut ben_ws, &welcome).await;
    assert_eq!(refused["code"], "forbidden", "{refused}");

    // Joining settles the role: the bot's token says Cleo holds DJ.
    let (mut cleo_ws, welcome) =
        hello_with_token(&w.app, &id, cleo["access_token"].as_str().unwrap()).await;
    assert_eq!(welcome["type"], "welcome");
    let session = snapshot(&w.app, &id).await;
    assert_eq!(
        w.djs_and_others(&session),
        (Some(Role::CoHost), Some(Role::Viewer))
    );
    assert_eq!(session.control, marquee_sync::Control::HostAndCoHosts);
    let accepted = try_pause(&mut cleo_ws, &welcome).await;
    assert_eq!(accepted["type"], "ack", "{accepted}");
    assert!(!snapshot(&w.app, &id).await.playback.playing);
}

/// Under the same role policy, Cleo and Ben open the session on the standalone page, signed in
/// with Discord: the bot's token tells Marquee Cleo holds the DJ role, so she joins as a co-host
/// and may pause; Ben is a viewer and is refused.
async fn the_servers_control_role_drives_from_the_web_page(w: World) {
    let id = w.djs_drive_and_ana_plays().await;
    let ben = w.web_sign_in(&w.ben).await;
    let cleo = w.web_sign_in(&w.cleo).await;

    let (mut ben_ws, welcome) = hello_as(&w.app, &id, None, Some(&ben)).await;
    assert_eq!(
        welcome["member"],
        format!("discord-{}", w.ben.id),
        "{welcome}"
    );
    let refused = try_pause(&mut ben_ws, &welcome).await;
    assert_eq!(refused["code"], "forbidden", "{refused}");

    let (mut cleo_ws, welcome) = hello_as(&w.app, &id, None, Some(&cleo)).await;
    assert_eq!(
        welcome["member"],
        format!("discord-{}", w.cleo.id),
        "{welcome}"
    );
    let session = snapshot(&w.app, &id).await;
    assert_eq!(
        w.djs_and_others(&session),
        (Some(Role::CoHost), Some(Role::Viewer))
    );
    let accepted = try_pause(&mut cleo_ws, &welcome).await;
    assert_eq!(accepted["type"], "ack", "{accepted}");
    assert!(!snapshot(&w.app, &id).await.playback.playing);
    // The bot asked with its own token (the fake records whether it was the right one).
    let lookups: Vec<_> = w
        .discord
        .calls()
        .into_iter()
        .filter(|c| c.path.ends_with(&format!("/members/{}", w.cleo.id)))
        .collect();
    assert!(!lookups.is_empty() && lookups.iter().all(|c| c.authorized));
}

/// Sends a pause based on the welcome's session version; the answer (an ack or an error).
async fn try_pause(ws: &mut Ws, welcome: &Value) -> Value {
    let pause = json!({"type": "command", "id": 1, "base_version": welcome["session"]["version"], "command": {"op": "pause"}});
    ws.send(Message::Text(pause.to_string().into()))
        .await
        .unwrap();
    next_of(ws, &["error", "ack"]).await
}

/// The next message of one of these types.
async fn next_of(ws: &mut Ws, types: &[&str]) -> Value {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if types.iter().any(|t| v["type"] == *t) {
                return v;
            }
        }
    }
}

/// Review item 10: when Discord answers 429, Marquee makes no further lookup until its
/// `Retry-After` has passed (a page retrying in a loop must not turn into a ban).
async fn a_rate_limited_lookup_waits_out_retry_after(w: World) {
    w.discord
        .join_activity("i-busy", CINEMA, Some(GUILD), w.ben.id);
    w.discord.rate_limit_next(1, 1.5);
    let sign_in = || async {
        let code = w.discord.authorization_code(&w.ben);
        w.post(
            "/api/activity/sign-in",
            json!({"code": code, "instance_id": "i-busy"}),
            None,
        )
        .await
    };
    let before = w.discord.calls_to("/activity-instances/");
    let (status, body) = sign_in().await;
    assert_eq!(
        (status, body["error"].as_str()),
        (502, Some("discord_unavailable")),
        "{body}"
    );
    for _ in 0..3 {
        let (status, _) = sign_in().await;
        assert_eq!(status, 502, "still waiting");
    }
    assert_eq!(
        w.discord.calls_to("/activity-instances/") - before,
        1,
        "one lookup, then none until Retry-After"
    );
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    let (status, body) = sign_in().await;
    assert_eq!(status, 200, "{body}");
}
