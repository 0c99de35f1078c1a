//! The Discord bot end to end: the real poise bot, inside a real Marquee server, connected to the
//! fake Discord (REST + gateway on loopback). People join voice channels and type slash commands
//! on the fake; WebSocket viewers watch the same session the way the web page does. Every test
//! body runs in the embedded mode and in the scale-out mode.

use std::time::Duration;

use marquee_fakes::discord::{FakeDiscord, FakeDiscordOptions, FakeGuild, FakeUser, Reply};
use marquee_fakes::plex::Fault;
use marquee_sync::session::Cause;
use marquee_sync::{Command, Session};
use serde_json::{Value, json};

use crate::helpers;
use crate::helpers::viewer::{Viewer, snapshot};
use crate::helpers::{Mode, TestApp, both_modes, spawn_app_with};

const GUILD: u64 = 900_000_000_000_000_100;
const TEXT: u64 = 900_000_000_000_000_101;
const CINEMA: u64 = 900_000_000_000_000_102;
const LOUNGE: u64 = 900_000_000_000_000_103;
const DJ: u64 = 900_000_000_000_000_110;
const PUBLIC_URL: &str = "https://marquee.example.test";
const WAIT: Duration = Duration::from_secs(10);

/// A Marquee server with its bot connected to a fake Discord guild where Ana and Ben sit in the
/// "Cinema" voice channel, Cleo (with the DJ role) too, and Dan is in no voice channel.
struct World {
    app: TestApp,
    /// The Plex server, when the test brought its own instead of the demo library.
    _plex: Option<marquee_fakes::plex::FakePlex>,
    discord: FakeDiscord,
    ana: FakeUser,
    ben: FakeUser,
    cleo: FakeUser,
    dan: FakeUser,
}

async fn world(mode: Mode) -> World {
    world_on(mode, None, false).await
}

/// [`world`], on a given Plex server instead of the demo library, and with or without a
/// Discord Activity configured.
async fn world_on(
    mode: Mode,
    plex: Option<marquee_fakes::plex::FakePlex>,
    activity: bool,
) -> World {
    let options = FakeDiscordOptions {
        // Short, so the tests see the bot keep its heartbeat.
        heartbeat_interval_ms: 400,
        ..FakeDiscordOptions::default()
    };
    let discord = FakeDiscord::start(options).await.unwrap();
    let ana = FakeUser::new(900_000_000_000_000_001, "ana");
    let ben = FakeUser::new(900_000_000_000_000_002, "ben");
    let cleo = FakeUser::new(900_000_000_000_000_003, "cleo").with_roles(&[DJ]);
    let dan = FakeUser::new(900_000_000_000_000_004, "dan");
    discord.add_guild(FakeGuild {
        id: GUILD,
        name: "Movie Club".into(),
        owner_id: ana.id,
        text_channel: TEXT,
        voice_channels: vec![CINEMA, LOUNGE],
        roles: vec![(DJ, "DJ".into())],
        members: vec![ana.clone(), ben.clone(), cleo.clone(), dan.clone()],
        voice: vec![(ana.id, CINEMA), (ben.id, CINEMA), (cleo.id, CINEMA)],
    });
    let (token, base) = (discord.token().to_owned(), discord.base_url());
    let adjust = move |c: &mut server::config::Config| {
        c.discord_token = Some(token.into());
        c.discord_api_url = Some(base);
        c.public_url = Some(PUBLIC_URL.into());
        // Scale-out deployments normally run `marquee bot` on its own; here one server hosts it.
        c.bot_in_server = Some(true);
        c.discord_activity = activity;
    };
    let app = match &plex {
        None => spawn_app_with(mode, adjust).await,
        Some(plex) => {
            let (db, redis) = match mode {
                Mode::Embedded => (None, None),
                Mode::ScaleOut => (
                    Some(helpers::fresh_postgres_database().await.url),
                    Some((helpers::redis_url(), helpers::fresh_redis_namespace().await)),
                ),
            };
            helpers::spawn_with_plex_and(plex, db, redis, adjust).await
        }
    };
    assert!(
        app.running.bot.is_some(),
        "the bot should run in the server"
    );
    discord.identified(WAIT).await.unwrap();
    discord.registered_commands(WAIT).await.unwrap();
    World {
        app,
        _plex: plex,
        discord,
        ana,
        ben,
        cleo,
        dan,
    }
}

/// [`world`], on a Plex server whose library is empty.
async fn empty_library_world(mode: Mode) -> World {
    world_on(mode, Some(helpers::start_empty_fake_plex().await), false).await
}

fn opt(name: &str, value: Value) -> Value {
    let kind = if value.is_string() {
        3
    } else if value.is_boolean() {
        5
    } else {
        4
    };
    json!({"name": name, "type": kind, "value": value})
}

impl World {
    async fn run(&self, who: &FakeUser, name: &str, options: Value) -> Reply {
        self.discord.command(who, name, options).await.unwrap()
    }

    /// `/play`, returning the reply and the session id from the card's link.
    async fn play(&self, who: &FakeUser, title: &str) -> (Reply, String) {
        let reply = self
            .run(who, "play", json!([opt("title", json!(title))]))
            .await;
        assert_eq!(reply.kind, 4, "{:?}", reply.data);
        assert!(
            !reply.ephemeral(),
            "the card is for everyone: {:?}",
            reply.data
        );
        let url = reply.embeds()[0]["url"].as_str().unwrap().to_owned();
        let id = url
            .strip_prefix(&format!("{PUBLIC_URL}/session/"))
            .unwrap_or_else(|| panic!("a session link, got {url}"))
            .to_owned();
        (reply, id)
    }

    async fn session(&self, id: &str) -> Session {
        snapshot(&self.app, id).await
    }
}

/// An ephemeral reply with exactly this text.
#[track_caller]
fn assert_refused(reply: &Reply, text: &str) {
    assert_eq!(reply.kind, 4, "{:?}", reply.data);
    assert!(
        reply.ephemeral(),
        "refusals are ephemeral: {:?}",
        reply.data
    );
    assert_eq!(reply.content(), text);
}

both_modes! {
    world => [
        play_pause_and_the_card_follow_the_web_viewer,
        bad_input_gets_a_clear_ephemeral_reply_and_changes_nothing,
        who_may_drive_is_a_guild_setting,
        a_host_who_leaves_the_voice_channel_hands_the_role_on,
        a_web_hosts_host_only_binds_the_bot_too,
        queue_skip_seek_and_stop,
        play_can_resume_where_plex_left_off,
    ],
    empty_library_world => [an_empty_library_is_explained],
}

/// The whole loop: registration, autocomplete from the library, `/play` starting a session a
/// WebSocket viewer sees playing, `/pause` pausing that viewer, and the viewer's pause (and a
/// button press) editing the bot's now-playing card.
async fn play_pause_and_the_card_follow_the_web_viewer(w: World) {
    let registered = w.discord.registered_commands(WAIT).await.unwrap();
    assert_eq!(registered, bot::registration_payload());
    let identify = w.discord.identified(WAIT).await.unwrap();
    let intents = identify["intents"].as_u64().unwrap();
    assert_eq!(
        intents & (1 | 1 << 7),
        1 | 1 << 7,
        "GUILDS and GUILD_VOICE_STATES"
    );
    assert_eq!(
        intents & (1 << 1 | 1 << 8 | 1 << 15),
        0,
        "no privileged intents"
    );

    let typed = json!([{"name": "title", "type": 3, "value": "harb", "focused": true}]);
    let suggestions = w.discord.autocomplete(&w.ana, "play", typed).await.unwrap();
    assert_eq!(suggestions.kind, 8);
    let choices = suggestions.choices();
    assert_eq!(
        choices.first(),
        Some(&("Harbor Lights (2019)".to_owned(), "rk:101".to_owned())),
        "{choices:?}"
    );

    let (card, id) = w.play(&w.ana, "rk:101").await;
    let embed = &card.embeds()[0];
    assert_eq!(embed["title"], "Harbor Lights");
    assert!(
        embed["thumbnail"]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{PUBLIC_URL}/img/")),
        "poster through Marquee: {embed}"
    );
    assert!(
        embed["description"].as_str().unwrap().contains("Playing"),
        "{embed}"
    );
    let buttons = &card.data["components"][0]["components"];
    assert_eq!(buttons[0]["custom_id"], format!("mq:toggle:{id}"));
    assert_eq!(buttons[2]["url"], format!("{PUBLIC_URL}/session/{id}"));
    let card_id = card.message_id.unwrap();

    // A web viewer joins and sees the session playing Harbor Lights.
    let mut web = Viewer::join(&w.app.running.url(), &id, "Webby", None).await;
    assert!(web.session.playback.playing);
    assert_eq!(web.session.current_entry().unwrap().rating_key, "101");
    let ana = web
        .session
        .member(&format!("discord-{}", w.ana.id))
        .unwrap();
    assert_eq!(ana.name, "ana");
    assert!(!ana.online(), "commanding from Discord is not watching");

    // /pause from Discord pauses the viewer, named as Ana.
    let reply = w.run(&w.ana, "pause", json!([])).await;
    assert!(
        reply.ephemeral() && reply.content().starts_with("Paused at "),
        "{:?}",
        reply.data
    );
    let (by, cause, playback) = web.playback_event().await;
    assert_eq!((by.as_deref(), cause), (Some("ana"), Cause::Pause));
    assert!(!playback.playing);
    let audit =
        crate::operations::audit_until(&w.app, &format!("session={id}&action=pause"), |e| {
            !e.is_empty()
        })
        .await;
    assert_eq!(audit[0]["actor_id"], format!("discord-{}", w.ana.id));

    // /resume, then the viewer pauses from the web page: the card says so.
    w.run(&w.ben, "resume", json!([])).await;
    let (by, _, playback) = web.playback_event().await;
    assert_eq!(by.as_deref(), Some("ben"));
    assert!(playback.playing);
    web.ok(Command::Pause).await;
    let edited = w
        .discord
        .wait_for_message(card_id, WAIT, |m| {
            let d = m.body["embeds"][0]["description"]
                .as_str()
                .unwrap_or_default();
            d.contains("Paused at") && d.contains("Webby paused")
        })
        .await
        .unwrap_or_else(|e| panic!("{e}: {:?}", w.discord.message(card_id)));
    assert_eq!(
        edited.body["components"][0]["components"][0]["label"], "Resume",
        "the toggle button offers the opposite action"
    );

    // Cleo presses Resume on the card: the viewer plays again.
    let press = w
        .discord
        .press(&w.cleo, card_id, &format!("mq:toggle:{id}"))
        .await
        .unwrap();
    assert!(
        press.ephemeral() && press.content().starts_with("Playing from"),
        "{:?}",
        press.data
    );
    let (by, _, playback) = web.playback_event().await;
    assert_eq!(by.as_deref(), Some("cleo"));
    assert!(playback.playing);
    w.discord
        .wait_for_message(card_id, WAIT, |m| {
            m.body["embeds"][0]["description"]
                .as_str()
                .is_some_and(|d| d.contains("cleo pressed play"))
        })
        .await
        .unwrap();
    // The connection stayed up: the bot heartbeats and the gateway acknowledges.
    tokio::time::timeout(WAIT, async {
        while w.discord.heartbeats() == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("a heartbeat within 10 s");
}

async fn bad_input_gets_a_clear_ephemeral_reply_and_changes_nothing(w: World) {
    // Not in a voice channel.
    let reply = w
        .run(&w.dan, "play", json!([opt("title", json!("rk:101"))]))
        .await;
    assert_refused(
        &reply,
        "Join a voice channel first: a watch session belongs to the voice channel you are in.",
    );
    // Once Dan joins the Lounge (a voice state update on the gateway), he can start a session
    // there: one session per voice channel.
    w.discord.set_voice(GUILD, &w.dan, Some(LOUNGE));
    let lounge = tokio::time::timeout(WAIT, async {
        loop {
            let reply = w
                .run(&w.dan, "play", json!([opt("title", json!("rk:104"))]))
                .await;
            if !reply.ephemeral() {
                return reply;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the voice state update reaches the bot");
    assert_eq!(lounge.embeds()[0]["title"], "Midnight Cartographers");
    w.discord.set_voice(GUILD, &w.dan, None);
    // Nothing playing yet in the Cinema.
    let reply = w.run(&w.ana, "pause", json!([])).await;
    assert_refused(
        &reply,
        &format!("Nothing is playing in <#{CINEMA}>. Start something with `/play`."),
    );
    // An unknown title.
    let reply = w
        .run(
            &w.ana,
            "play",
            json!([opt("title", json!("Zebra Quasar Nonsense"))]),
        )
        .await;
    assert_refused(
        &reply,
        "Nothing in the library matches “Zebra Quasar Nonsense”. Try `/search` to find the exact title.",
    );

    let (_, id) = w.play(&w.ana, "Harbor Lights").await;
    let before = w.session(&id).await;

    // A malformed time.
    let reply = w
        .run(&w.ana, "seek", json!([opt("time", json!("1:7x"))]))
        .await;
    assert_refused(
        &reply,
        "“1:7x” is not a time. Use 1:23:45, 23:45, 90s, +30s or -10s.",
    );
    // Past the end.
    let reply = w
        .run(&w.ana, "seek", json!([opt("time", json!("3:00"))]))
        .await;
    assert_refused(
        &reply,
        "3:00 is past the end: “Harbor Lights” is 2:00 long.",
    );
    // Nothing after this in the queue.
    let reply = w.run(&w.ana, "skip", json!([])).await;
    assert_refused(
        &reply,
        "There is nothing queued after this. Add something with `/queue add`.",
    );
    assert_eq!(
        w.session(&id).await.version,
        before.version,
        "refusals change nothing"
    );

    // Plex unreachable: an item not cached yet cannot be resolved.
    w.app.plex().set_fault(Some(Fault::Status(503)));
    let reply = w
        .run(
            &w.ana,
            "queue",
            json!([{"name": "add", "type": 1, "options": [opt("title", json!("rk:105"))]}]),
        )
        .await;
    assert!(reply.ephemeral(), "{:?}", reply.data);
    assert!(
        reply
            .content()
            .starts_with("Plex can't be reached right now (")
            && reply
                .content()
                .ends_with("), so nothing changed. Try again in a minute."),
        "{}",
        reply.content()
    );
    w.app.plex().set_fault(None);
    assert_eq!(
        w.session(&id).await.version,
        before.version,
        "nothing half-changed"
    );

    // The session is deleted behind the bot's back: the next command says so.
    assert!(
        w.app
            .running
            .services
            .store
            .delete_session(&id)
            .await
            .unwrap()
    );
    let reply = w.run(&w.ben, "pause", json!([])).await;
    assert_refused(
        &reply,
        "This channel's watch session no longer exists, so nothing changed. Start a new one with `/play`.",
    );
    // ...and the stale link is gone, so the next command is plainly "nothing playing".
    let reply = w.run(&w.ben, "np", json!([])).await;
    assert_refused(
        &reply,
        &format!("Nothing is playing in <#{CINEMA}>. Start something with `/play`."),
    );
}

async fn who_may_drive_is_a_guild_setting(w: World) {
    let (_, id) = w.play(&w.ana, "rk:102").await;
    let mut web = Viewer::join(&w.app.running.url(), &id, "Webby", None).await;

    let reply = w
        .run(
            &w.ana,
            "settings",
            json!([{"name": "control", "type": 1, "options": [opt("who", json!(1))]}]),
        )
        .await;
    assert!(reply.ephemeral());
    assert_eq!(
        reply.content(),
        "Done: the host only can control watch sessions in this server."
    );
    let before = w.session(&id).await.version;
    let reply = w.run(&w.ben, "pause", json!([])).await;
    assert_refused(
        &reply,
        "Only the host can control this session here (ana). A server admin can change that with `/settings control`.",
    );
    assert_eq!(w.session(&id).await.version, before);
    // Opening the web page first did not make Webby host: Ana drives from Discord.
    let session = w.session(&id).await;
    assert_eq!(
        session.host().map(|h| h.id.clone()),
        Some(format!("discord-{}", w.ana.id))
    );
    // Ana started it: she may.
    let reply = w.run(&w.ana, "pause", json!([])).await;
    assert!(reply.content().starts_with("Paused"), "{:?}", reply.data);
    web.playback_event().await;

    // Host and DJs: Cleo (DJ) may, Ben may not.
    let options = json!({
        "options": [{"name": "control", "type": 1, "options": [
            opt("who", json!(2)),
            {"name": "role", "type": 8, "value": DJ.to_string()},
        ]}],
        "resolved": {"roles": {DJ.to_string(): marquee_fakes::discord::payloads::role(GUILD, DJ, "DJ", 1)}},
    });
    let reply = w.run(&w.ana, "settings", options).await;
    assert_eq!(
        reply.content(),
        format!(
            "Done: the host and members with <@&{DJ}> can control watch sessions in this server."
        )
    );
    let audit = crate::operations::audit_until(&w.app, "action=settings", |e| !e.is_empty()).await;
    assert_eq!(audit[0]["actor_id"], format!("discord-{}", w.ana.id));
    assert!(
        audit[0]["detail"].as_str().unwrap().contains("\"control\""),
        "{audit:?}"
    );
    let reply = w.run(&w.ben, "resume", json!([])).await;
    assert_refused(
        &reply,
        &format!(
            "Only the host and members with <@&{DJ}> can control this session here. A server admin can change that with `/settings control`."
        ),
    );
    let reply = w.run(&w.cleo, "resume", json!([])).await;
    assert!(
        reply.content().starts_with("Playing from"),
        "{:?}",
        reply.data
    );
    let (by, _, _) = web.playback_event().await;
    assert_eq!(by.as_deref(), Some("cleo"));

    // Back to everyone.
    w.run(
        &w.ana,
        "settings",
        json!([{"name": "control", "type": 1, "options": [opt("who", json!(0))]}]),
    )
    .await;
    let reply = w.run(&w.ben, "pause", json!([])).await;
    assert!(reply.content().starts_with("Paused"), "{:?}", reply.data);
}

/// Review item 16: the host on the web page chose "host only"; Ben, in the voice channel of a
/// server where everyone may drive, is refused by the bot as he would be on the page.
async fn a_web_hosts_host_only_binds_the_bot_too(w: World) {
    let (_, id) = w.play(&w.ana, "rk:102").await;
    let mut web = Viewer::join(&w.app.running.url(), &id, "Webby", None).await;
    w.discord.set_voice(GUILD, &w.ana, None);
    assert_eq!(web.host_change().await, web.member);
    web.ok(Command::SetControl {
        control: marquee_sync::Control::HostOnly,
    })
    .await;
    let before = w.session(&id).await.version;
    let reply = w.run(&w.ben, "pause", json!([])).await;
    assert_refused(
        &reply,
        "Only the host can control playback in this session.",
    );
    assert_eq!(w.session(&id).await.version, before, "nothing changed");
}

/// Ana started the session with `/play` and drives from Discord, so a web viewer does not take
/// her host role while she is away from the page. When she leaves the voice channel, the role
/// passes to the viewer on the page (someone else leaving changes nothing).
async fn a_host_who_leaves_the_voice_channel_hands_the_role_on(w: World) {
    let (_, id) = w.play(&w.ana, "rk:102").await;
    let mut web = Viewer::join(&w.app.running.url(), &id, "Webby", None).await;
    let ana = format!("discord-{}", w.ana.id);
    let session = w.session(&id).await;
    assert_eq!(session.host().map(|h| h.id.clone()), Some(ana.clone()));
    assert!(session.host_elsewhere);

    w.discord.set_voice(GUILD, &w.ben, None);
    w.discord.set_voice(GUILD, &w.ana, None);
    assert_eq!(web.host_change().await, web.member);
    let session = w.session(&id).await;
    assert_eq!(
        session.host().map(|h| h.id.clone()),
        Some(web.member.clone())
    );
    assert!(!session.host_elsewhere);
    assert_eq!(
        session.member(&ana).map(|m| m.role),
        Some(marquee_sync::Role::Viewer)
    );
}

async fn queue_skip_seek_and_stop(w: World) {
    let (_, id) = w.play(&w.ana, "rk:101").await;
    let mut web = Viewer::join(&w.app.running.url(), &id, "Webby", None).await;

    // /play while something plays queues instead; a show starts at its first episode.
    let reply = w
        .run(
            &w.ben,
            "play",
            json!([opt("title", json!("Lanterns of Vell"))]),
        )
        .await;
    assert!(reply.ephemeral());
    assert_eq!(
        reply.content(),
        format!(
            "Queued “Lanterns of Vell · First Flame” as #2 in <#{CINEMA}>'s session. Use `/skip` to jump to it."
        )
    );
    let reply = w
        .run(
            &w.ben,
            "queue",
            json!([{"name": "show", "type": 1, "options": []}]),
        )
        .await;
    let listing = reply.embeds()[0]["description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(listing.contains("▶️ **1.** Harbor Lights"), "{listing}");
    assert!(
        listing.contains("**2.** Lanterns of Vell · First Flame"),
        "{listing}"
    );

    let reply = w
        .run(&w.ana, "seek", json!([opt("time", json!("1:05"))]))
        .await;
    assert_eq!(reply.content(), "Jumped to 1:05.");
    let (_, cause, playback) = web.playback_event().await;
    assert!(matches!(cause, Cause::Seek { .. }));
    assert!((playback.position - 65.0).abs() < 0.001);
    let reply = w
        .run(&w.ana, "seek", json!([opt("time", json!("-15s"))]))
        .await;
    assert_eq!(reply.content(), "Jumped to 0:50.");

    let reply = w.run(&w.ana, "skip", json!([])).await;
    assert_eq!(
        reply.content(),
        "Skipped to “Lanterns of Vell · First Flame”."
    );
    web.until(|m| matches!(m, marquee_sync::ServerMsg::Event { changes, .. }
        if changes.iter().any(|c| matches!(c, marquee_sync::Change::Playback { cause: Cause::Item { .. }, .. }))).then_some(()))
        .await;
    assert_eq!(web.session.current_entry().unwrap().rating_key, "2110");

    let reply = w
        .run(
            &w.ana,
            "queue",
            json!([{"name": "remove", "type": 1, "options": [opt("position", json!(7))]}]),
        )
        .await;
    assert_refused(&reply, "There is no #7 in the queue: it has 2 items.");

    let reply = w.run(&w.dan, "watch", json!([])).await;
    assert_refused(
        &reply,
        "Join a voice channel first: a watch session belongs to the voice channel you are in.",
    );
    let reply = w.run(&w.ben, "watch", json!([])).await;
    assert!(!reply.ephemeral());
    assert!(
        reply
            .content()
            .contains(&format!("{PUBLIC_URL}/session/{id}")),
        "{}",
        reply.content()
    );

    let reply = w.run(&w.ana, "stop", json!([])).await;
    assert!(
        reply.ephemeral() && reply.content().starts_with("Stopped at "),
        "{}",
        reply.content()
    );
    let after = w.session(&id).await;
    assert!(
        !after.playback.playing,
        "stop pauses, and keeps the session"
    );
    let reply = w.run(&w.ana, "np", json!([])).await;
    assert_refused(
        &reply,
        &format!("Nothing is playing in <#{CINEMA}>. Start something with `/play`."),
    );
}

async fn an_empty_library_is_explained(w: World) {
    let typed = json!([{"name": "title", "type": 3, "value": "a", "focused": true}]);
    let suggestions = w.discord.autocomplete(&w.ana, "play", typed).await.unwrap();
    assert!(suggestions.choices().is_empty());
    let reply = w
        .run(&w.ana, "play", json!([opt("title", json!("anything"))]))
        .await;
    assert_refused(
        &reply,
        "The Plex library is empty: add some movies or shows in Plex, then try again.",
    );
}

/// With an Activity configured, `/watch` launches it in the voice channel (interaction response
/// type 12) instead of posting a browser link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_launches_the_activity_when_there_is_one() {
    let w = world_on(Mode::Embedded, None, true).await;
    w.play(&w.ana, "rk:101").await;
    let reply = w.run(&w.ben, "watch", json!([])).await;
    assert_eq!(reply.kind, 12, "{:?}", reply.data);
}

/// Without a token the server starts with no bot; in scale-out mode a token alone does not put the
/// bot in every web server (one `marquee bot` runs next to them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_runs_where_it_is_configured_to() {
    let app = helpers::spawn_app(Mode::Embedded).await;
    assert!(app.running.bot.is_none());
    let app = spawn_app_with(Mode::ScaleOut, |c| {
        c.discord_token = Some("some-token".to_string().into());
    })
    .await;
    assert!(
        app.running.bot.is_none(),
        "scale-out servers leave the bot to `marquee bot`"
    );
}

/// Scale-out: `marquee bot` runs alone; viewers are on a web server without a bot. Both share
/// PostgreSQL and Redis, so the bot's `/play` and `/pause` reach the viewer, and the viewer's pause
/// reaches the bot's card, through Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_separate_bot_process_drives_sessions_through_redis() {
    let discord = FakeDiscord::start(FakeDiscordOptions::default())
        .await
        .unwrap();
    let ana = FakeUser::new(900_000_000_000_000_001, "ana");
    discord.add_guild(FakeGuild {
        id: GUILD,
        name: "Movie Club".into(),
        owner_id: ana.id,
        text_channel: TEXT,
        voice_channels: vec![CINEMA],
        roles: Vec::new(),
        members: vec![ana.clone()],
        voice: vec![(ana.id, CINEMA)],
    });
    let database = helpers::fresh_postgres_database().await.url;
    let namespace = helpers::fresh_redis_namespace().await;
    let (db, ns) = (database.clone(), namespace.clone());
    let web = spawn_app_with(Mode::Embedded, move |c| {
        c.database_url = Some(db.into());
        c.redis_url = Some(helpers::redis_url().into());
        c.redis_namespace = ns;
        // A token alone does not start a bot in a scale-out web server.
        c.discord_token = Some("fake-discord-bot-token".to_string().into());
    })
    .await;
    assert!(web.running.bot.is_none());

    let data = tempfile::tempdir().unwrap();
    let mut config = helpers::base_config(&data);
    config.database_url = Some(database.into());
    config.redis_url = Some(helpers::redis_url().into());
    config.redis_namespace = namespace;
    config.discord_token = Some(discord.token().to_owned().into());
    config.discord_api_url = Some(discord.base_url());
    config.public_url = Some(PUBLIC_URL.into());
    let bot_process = tokio::spawn(server::startup::run_bot(config.settings().unwrap()));
    discord.registered_commands(WAIT).await.unwrap();

    let reply = discord
        .command(&ana, "play", json!([opt("title", json!("rk:105"))]))
        .await
        .unwrap();
    let url = reply.embeds()[0]["url"].as_str().unwrap().to_owned();
    let id = url.rsplit('/').next().unwrap().to_owned();
    let mut viewer = Viewer::join(&web.running.url(), &id, "Webby", None).await;
    assert!(viewer.session.playback.playing);
    assert_eq!(
        viewer.session.current_entry().unwrap().title,
        "Paper Satellites"
    );

    discord.command(&ana, "pause", json!([])).await.unwrap();
    let (by, cause, _) = viewer.playback_event().await;
    assert_eq!((by.as_deref(), cause), (Some("ana"), Cause::Pause));

    viewer.ok(Command::Play).await;
    let card = reply.message_id.unwrap();
    discord
        .wait_for_message(card, WAIT, |m| {
            m.body["embeds"][0]["description"]
                .as_str()
                .is_some_and(|d| d.contains("Webby pressed play"))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}: {:?}", discord.message(card)));
    bot_process.abort();
}

/// `marquee bot` refuses to run where it could not share sessions with web servers.
#[tokio::test]
async fn a_separate_bot_needs_the_shared_stores() {
    let data = tempfile::tempdir().unwrap();
    let mut config = helpers::base_config(&data);
    let err = server::startup::run_bot(config.settings().unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("needs DISCORD_TOKEN"), "{err}");
    config.discord_token = Some("t".to_string().into());
    let err = server::startup::run_bot(config.settings().unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("REDIS_URL"), "{err}");
}

/// `/play … resume:True` starts where Plex left off on the owner's account (the demo's "Harbor
/// Lights" at 0:21.5), and the card says so; without it the session starts at 0:00.
async fn play_can_resume_where_plex_left_off(w: World) {
    let reply = w
        .run(
            &w.ana,
            "play",
            json!([
                opt("title", json!("Harbor Lights")),
                opt("resume", json!(true))
            ]),
        )
        .await;
    assert_eq!(reply.kind, 4, "{:?}", reply.data);
    let embed = &reply.embeds()[0];
    let description = embed["description"].as_str().unwrap_or_default();
    assert!(
        description.contains("ana resumed Harbor Lights from 0:21"),
        "{description}"
    );
    let url = embed["url"].as_str().unwrap();
    let id = url.rsplit('/').next().unwrap();
    let session = w.session(id).await;
    assert!(session.playback.playing);
    assert_eq!(session.playback.position, 21.5);
    assert!(session.ending.started, "no Resume offer left on the page");
}
