//! The bot token and the Plex token never reach the logs, even at the most verbose level, while
//! the bot connects, registers its commands and answers commands (the log is the test binary's
//! one capturing subscriber, `helpers::logs`).

use std::time::Duration;

use marquee_fakes::discord::{FakeDiscord, FakeDiscordOptions, FakeGuild, FakeUser};
use serde_json::json;

use crate::helpers::{Mode, spawn_app_with};

/// The fake Discord on its own thread with logging off there: it *receives* the token (in
/// IDENTIFY and headers), and its WebSocket library traces what it receives, which would be the
/// fake's log line, not Marquee's.
fn quiet_fake_discord(options: FakeDiscordOptions) -> FakeDiscord {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _quiet = tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            tx.send(FakeDiscord::start(options).await.unwrap()).unwrap();
            std::future::pending::<()>().await
        });
    });
    rx.recv().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_stay_out_of_trace_logs() {
    let logs = crate::helpers::logs::capture();
    let _everything = logs.trace();

    let options = FakeDiscordOptions {
        token: "MTEwMDAwMDAwMDAwMDAwMDAwMQ.secret-bot-token-value".into(),
        ..FakeDiscordOptions::default()
    };
    let discord = quiet_fake_discord(options);
    let ana = FakeUser::new(900_000_000_000_000_001, "ana");
    discord.add_guild(FakeGuild {
        id: 900_000_000_000_000_100,
        name: "Movie Club".into(),
        owner_id: ana.id,
        text_channel: 900_000_000_000_000_101,
        voice_channels: vec![900_000_000_000_000_102],
        roles: Vec::new(),
        members: vec![ana.clone()],
        voice: vec![(ana.id, 900_000_000_000_000_102)],
    });
    let (token, base) = (discord.token().to_owned(), discord.base_url());
    let app = spawn_app_with(Mode::Embedded, move |c| {
        c.discord_token = Some(token.into());
        c.discord_api_url = Some(base);
    })
    .await;
    discord
        .registered_commands(Duration::from_secs(10))
        .await
        .unwrap();
    let typed = json!([{"name": "title", "type": 3, "value": "har", "focused": true}]);
    discord.autocomplete(&ana, "play", typed).await.unwrap();
    let play = json!([{"name": "title", "type": 3, "value": "rk:101"}]);
    let reply = discord.command(&ana, "play", play).await.unwrap();
    assert_eq!(reply.kind, 4);
    discord.command(&ana, "pause", json!([])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let text = logs.text();
    assert!(
        text.len() > 10_000,
        "the capture works: {} bytes",
        text.len()
    );
    assert!(
        text.contains("serenity::"),
        "trace logs cover the Discord client"
    );
    for secret in [
        discord.token(),
        "secret-bot-token-value",
        app.plex().token(),
    ] {
        let leaks: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(secret))
            .take(5)
            .collect();
        assert!(leaks.is_empty(), "a secret reached the logs: {leaks:#?}");
    }
}
