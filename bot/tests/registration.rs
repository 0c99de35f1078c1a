//! The slash commands as registered with Discord, pinned: names, descriptions, options,
//! autocomplete flags and permissions are what users see in Discord's command picker, so any
//! change to them must be a deliberate edit of `commands.json`.
//!
//! After an intended change: `MARQUEE_BLESS=1 cargo test -p bot --test registration`, then review
//! the diff of `bot/tests/commands.json`.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

#[test]
fn the_registration_payload_is_pinned() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/commands.json");
    let actual = bot::registration_payload();
    if std::env::var_os("MARQUEE_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
    }
    let pinned: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        actual, pinned,
        "the commands changed; if that is intended, re-bless (see the file's doc comment)"
    );
}

#[test]
fn every_command_is_guild_scoped_where_it_must_be_and_autocompletes_titles() {
    let payload = bot::registration_payload();
    let commands = payload.as_array().unwrap();
    let names: Vec<&str> = commands
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "play", "search", "queue", "pause", "resume", "seek", "skip", "np", "stop", "watch",
            "settings"
        ]
    );
    let play = &commands[0];
    assert_eq!(play["options"][0]["name"], "title");
    assert_eq!(play["options"][0]["autocomplete"], true);
    assert_eq!(play["options"][0]["required"], true);
    let settings = commands.last().unwrap();
    // MANAGE_GUILD = 1 << 5.
    assert_eq!(settings["default_member_permissions"], "32");
    for c in commands {
        // Everything but /search acts on a voice channel, so only works in a server (context 0).
        if c["name"] != "search" {
            assert_eq!(c["contexts"], serde_json::json!([0]), "{}", c["name"]);
        }
        let description = c["description"].as_str().unwrap();
        assert!(
            !description.is_empty() && description.len() <= 100,
            "{}: Discord needs a 1–100 character description",
            c["name"]
        );
    }
}
