//! Store behaviour, run identically against SQLite (temp dir) and PostgreSQL (a fresh
//! database per test, dropped afterwards). PostgreSQL must be reachable: the tests fail
//! rather than skip when it is not.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::Duration;

use futures::FutureExt;
use marquee_store::testing::fresh_postgres_database;
use marquee_store::{Backend, NewSession, Store, StoreError};
use serde_json::json;

/// Where a test body gets its stores from; connecting twice simulates a restart.
struct Fixture {
    url: Option<String>,
    data_dir: PathBuf,
    backend: Backend,
}

impl Fixture {
    async fn connect(&self) -> Store {
        let store = Store::connect(self.url.as_deref(), &self.data_dir)
            .await
            .unwrap_or_else(|e| panic!("connecting the {:?} store failed: {e}", self.backend));
        assert_eq!(store.backend(), self.backend);
        store
    }
}

async fn with_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    body(Fixture {
        url: None,
        data_dir: dir.path().join("data"),
        backend: Backend::Sqlite,
    })
    .await;
}

async fn with_postgres<F, Fut>(body: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    let database = fresh_postgres_database().await;
    let dir = tempfile::tempdir().unwrap();

    let outcome = AssertUnwindSafe(body(Fixture {
        url: Some(database.url.clone()),
        data_dir: dir.path().to_path_buf(),
        backend: Backend::Postgres,
    }))
    .catch_unwind()
    .await;

    database.drop_database().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

on_both_backends! {
    #[tokio::test]
    sqlite => with_sqlite, postgres => with_postgres;
    migrations_run_at_connect_and_survive_restart,
    users_upsert_and_settings,
    sessions_crud_with_version_check,
    sessions_concurrent_updates_have_one_winner,
    media_cache_upsert_expiry_and_purge,
    preferences_per_scope,
    processes_starting_together_migrate_one_at_a_time,
    channel_links_follow_their_session,
    refresh_tokens_rotate_once_and_a_replay_revokes_the_family,
    concurrent_refreshes_agree_and_a_racing_sign_out_wins,
    rejoin_keys_are_stored_with_their_session_and_go_with_it,
    the_shared_key_is_made_once,
}

/// A session's creator's rejoin key is written with the session (one transaction), only as a
/// hash, replaced by a newer one, and deleted with the session.
async fn rejoin_keys_are_stored_with_their_session_and_go_with_it(fx: Fixture) {
    use marquee_store::NewMemberKey;
    use marquee_store::secret::{hash_secret, new_secret};
    let store = fx.connect().await;
    let key = new_secret();
    let mut new = NewSession::new("Ana", "Harbor Lights");
    new.host_key = Some(NewMemberKey {
        member_id: "anon-1".into(),
        key_hash: hash_secret(&key),
    });
    let created = store.create_session(&new).await.unwrap();
    let stored = store.member_key_hash(&created.id, "anon-1").await.unwrap();
    assert_eq!(stored.as_deref(), Some(hash_secret(&key).as_str()));
    assert_ne!(
        stored.as_deref(),
        Some(key.as_str()),
        "never the key itself"
    );
    assert_eq!(
        store.member_key_hash(&created.id, "anon-2").await.unwrap(),
        None
    );

    // A duplicate session id writes neither the session nor its key.
    let mut dup = NewSession::new("Eve", "Other");
    dup.id = created.id.clone();
    dup.host_key = Some(NewMemberKey {
        member_id: "anon-eve".into(),
        key_hash: hash_secret("eve"),
    });
    assert!(store.create_session(&dup).await.is_err());
    assert_eq!(
        store
            .member_key_hash(&created.id, "anon-eve")
            .await
            .unwrap(),
        None
    );

    store
        .put_member_key(&created.id, "anon-1", &hash_secret("newer"))
        .await
        .unwrap();
    assert_eq!(
        store.member_key_hash(&created.id, "anon-1").await.unwrap(),
        Some(hash_secret("newer"))
    );
    assert_eq!(
        store
            .delete_member_keys(&created.id, &["anon-1".to_owned()])
            .await
            .unwrap(),
        1
    );
    store
        .put_member_key(&created.id, "anon-1", "h")
        .await
        .unwrap();
    assert!(store.delete_session(&created.id).await.unwrap());
    assert_eq!(
        store.member_key_hash(&created.id, "anon-1").await.unwrap(),
        None
    );
}

/// The URL-signing key: made by whoever asks first, the same for everyone after.
async fn the_shared_key_is_made_once(fx: Fixture) {
    let store = fx.connect().await;
    let a = store.shared_key("url-signing").await.unwrap();
    let b = store.shared_key("url-signing").await.unwrap();
    assert_eq!(a, b);
    assert_ne!(a, [0; 32]);
    assert_ne!(store.shared_key("another").await.unwrap(), a);
}

/// A refresh token works once; presenting it again (a stolen copy, say) revokes every token of
/// its sign-in, including the one that replaced it.
async fn refresh_tokens_rotate_once_and_a_replay_revokes_the_family(fx: Fixture) {
    use marquee_store::{NewRefreshToken, Rotation};
    let store = fx.connect().await;
    let user = store.upsert_user("42", "ana", None).await.unwrap();
    let later = chrono::Utc::now().naive_utc() + chrono::TimeDelta::days(30);
    store
        .insert_refresh_token(&NewRefreshToken {
            token_hash: "h1".into(),
            user_id: user.id,
            family: "fam".into(),
            expires_at: later,
        })
        .await
        .unwrap();
    let first = store
        .rotate_refresh_token("h1", "h2", later, GRACE)
        .await
        .unwrap();
    let rotated = Rotation::Rotated {
        user_id: user.id,
        family: "fam".into(),
    };
    assert_eq!(first, rotated);
    // The same token with the same successor at once (a second tab): the same answer.
    assert_eq!(
        store
            .rotate_refresh_token("h1", "h2", later, GRACE)
            .await
            .unwrap(),
        rotated
    );
    // h1 with another successor: a replay. The family goes, so h2 no longer works either.
    assert_eq!(
        store
            .rotate_refresh_token("h1", "h3", later, GRACE)
            .await
            .unwrap(),
        Rotation::Reused {
            family: "fam".into()
        }
    );
    assert!(matches!(
        store
            .rotate_refresh_token("h2", "h4", later, GRACE)
            .await
            .unwrap(),
        Rotation::Reused { .. }
    ));
    assert_eq!(
        store
            .rotate_refresh_token("nope", "h5", later, GRACE)
            .await
            .unwrap(),
        Rotation::Unknown
    );
    // An expired token is refused without revoking anything.
    let past = chrono::Utc::now().naive_utc() - chrono::TimeDelta::seconds(1);
    store
        .insert_refresh_token(&NewRefreshToken {
            token_hash: "old".into(),
            user_id: user.id,
            family: "fam2".into(),
            expires_at: past,
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .rotate_refresh_token("old", "h6", later, GRACE)
            .await
            .unwrap(),
        Rotation::Expired
    );
    assert_eq!(
        store.refresh_family_of("old").await.unwrap().as_deref(),
        Some("fam2")
    );
}

const GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Review item 14: two tabs refreshing one token at the same moment both stay signed in (and
/// agree on the successor), and a sign-out racing a chain of rotations leaves no token of that
/// sign-in working.
async fn concurrent_refreshes_agree_and_a_racing_sign_out_wins(fx: Fixture) {
    use marquee_store::{NewRefreshToken, Rotation};
    let store = fx.connect().await;
    let user = store.upsert_user("43", "ben", None).await.unwrap();
    let later = chrono::Utc::now().naive_utc() + chrono::TimeDelta::days(30);
    let token = |hash: &str, family: &str| NewRefreshToken {
        token_hash: hash.into(),
        user_id: user.id,
        family: family.into(),
        expires_at: later,
    };
    store
        .insert_refresh_token(&token("t0", "tabs"))
        .await
        .unwrap();
    let tabs: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .rotate_refresh_token("t0", "t1", later, GRACE)
                    .await
                    .unwrap()
            })
        })
        .collect();
    for tab in tabs {
        assert!(
            matches!(tab.await.unwrap(), Rotation::Rotated { .. }),
            "every tab stays signed in"
        );
    }
    assert!(matches!(
        store
            .rotate_refresh_token("t1", "t2", later, GRACE)
            .await
            .unwrap(),
        Rotation::Rotated { .. }
    ));

    // A sign-out while the chain keeps rotating: afterwards nothing of it works.
    store
        .insert_refresh_token(&token("r0", "race"))
        .await
        .unwrap();
    let rotating = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                let (from, to) = (format!("r{i}"), format!("r{}", i + 1));
                match store.rotate_refresh_token(&from, &to, later, GRACE).await {
                    Ok(Rotation::Rotated { .. }) => {}
                    _ => return i,
                }
            }
            40
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    store.revoke_refresh_family("race").await.unwrap();
    let reached = rotating.await.unwrap();
    for i in 0..=reached + 1 {
        let outcome = store
            .rotate_refresh_token(&format!("r{i}"), "fresh", later, GRACE)
            .await
            .unwrap();
        assert!(
            !matches!(outcome, Rotation::Rotated { .. }),
            "r{i} still works after the sign-out (the chain reached r{reached})"
        );
    }
}

/// A voice channel watches one session; relinking replaces it, and a stale unlink is ignored.
/// Deleting a session leaves its link, so the bot can tell the channel its session ended.
async fn channel_links_follow_their_session(fx: Fixture) {
    use marquee_store::NewChannelLink;
    let store = fx.connect().await;
    for id in ["firstone", "secondone"] {
        let mut new = NewSession::new("Ana", "Harbor Lights");
        new.id = id.into();
        store.create_session(&new).await.unwrap();
    }
    let link = |session: &str| NewChannelLink {
        voice_channel_id: "700".into(),
        guild_id: "600".into(),
        session_id: session.into(),
        owner_discord_id: "42".into(),
    };
    assert_eq!(store.channel_link("700").await.unwrap(), None);
    let first = store.put_channel_link(&link("firstone")).await.unwrap();
    assert_eq!(first.session_id, "firstone");
    assert!(
        store
            .set_now_playing_message("700", "firstone", "800", "900")
            .await
            .unwrap()
    );
    let read = store.channel_link("700").await.unwrap().unwrap();
    assert_eq!(
        (read.np_channel_id.as_deref(), read.np_message_id.as_deref()),
        (Some("800"), Some("900"))
    );
    assert_eq!(
        store
            .channel_links_of_session("firstone")
            .await
            .unwrap()
            .len(),
        1
    );

    // Relinking the channel replaces the session and forgets the old now-playing message.
    let second = store.put_channel_link(&link("secondone")).await.unwrap();
    assert_eq!(second.session_id, "secondone");
    assert_eq!(second.np_message_id, None);
    assert!(
        store
            .channel_links_of_session("firstone")
            .await
            .unwrap()
            .is_empty()
    );
    // A now-playing update or unlink meant for the old session changes nothing.
    assert!(
        !store
            .set_now_playing_message("700", "firstone", "1", "2")
            .await
            .unwrap()
    );
    assert!(!store.remove_channel_link("700", "firstone").await.unwrap());
    assert!(store.channel_link("700").await.unwrap().is_some());

    // An Activity launched in the channel is bound to its link, and only to the current session.
    assert!(
        !store
            .set_channel_activity("700", "firstone", "i-old")
            .await
            .unwrap()
    );
    assert!(
        store
            .set_channel_activity("700", "secondone", "i-1")
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .channel_link("700")
            .await
            .unwrap()
            .and_then(|l| l.activity_instance_id),
        Some("i-1".into())
    );

    assert!(store.delete_session("secondone").await.unwrap());
    assert_eq!(
        store
            .channel_link("700")
            .await
            .unwrap()
            .map(|l| l.session_id),
        Some("secondone".into())
    );
    assert!(store.remove_channel_link("700", "secondone").await.unwrap());
    assert_eq!(store.channel_link("700").await.unwrap(), None);
}

/// Several servers started at once on a fresh database (a scale-out deploy) must all come up.
async fn processes_starting_together_migrate_one_at_a_time(fx: Fixture) {
    let connects = (0..4).map(|_| Store::connect(fx.url.as_deref(), &fx.data_dir));
    for result in futures::future::join_all(connects).await {
        let store = result.unwrap_or_else(|e| panic!("a concurrent start failed: {e}"));
        store.ping().await.unwrap();
    }
}

async fn migrations_run_at_connect_and_survive_restart(fx: Fixture) {
    let store = fx.connect().await;
    store.ping().await.unwrap();
    let user = store.upsert_user("d-1", "alice", None).await.unwrap();
    store
        .create_session(&NewSession::new("alice", "Movie night"))
        .await
        .unwrap();
    store
        .set_preference("global", "theme", &json!("dark"))
        .await
        .unwrap();
    drop(store);

    // "Restart": migrations run again (no-op) and earlier data is still there.
    let store = fx.connect().await;
    store.ping().await.unwrap();
    assert_eq!(
        store.user_by_discord_id("d-1").await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(store.list_sessions().await.unwrap().len(), 1);
    assert_eq!(
        store.get_preference("global", "theme").await.unwrap(),
        Some(json!("dark"))
    );
    if fx.backend == Backend::Sqlite {
        assert!(fx.data_dir.join("marquee.db").is_file());
    }
    // A third handle side by side with the second one (two processes on one database).
    let other = fx.connect().await;
    assert_eq!(other.user_by_discord_id("d-1").await.unwrap(), Some(user));
}

async fn users_upsert_and_settings(fx: Fixture) {
    let store = fx.connect().await;
    assert_eq!(store.user_by_discord_id("nobody").await.unwrap(), None);

    let alice = store
        .upsert_user("100", "alice", Some("a.png"))
        .await
        .unwrap();
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.avatar.as_deref(), Some("a.png"));
    assert_eq!(alice.settings, json!({}));
    // Timestamps and JSON round-trip exactly.
    assert_eq!(
        store.user_by_discord_id("100").await.unwrap(),
        Some(alice.clone())
    );

    let settings = json!({
        "volume": 0.8, "subtitles": {"lang": "fr", "size": 12}, "tags": ["a", "ü", null], "big": 9007199254740993_i64
    });
    store.set_user_settings(alice.id, &settings).await.unwrap();

    // Re-upserting (next login) updates name/avatar, keeps id, settings and created_at.
    let again = store.upsert_user("100", "alice2", None).await.unwrap();
    assert_eq!(again.id, alice.id);
    assert_eq!(again.username, "alice2");
    assert_eq!(again.avatar, None);
    assert_eq!(again.settings, settings);
    assert_eq!(again.created_at, alice.created_at);
    assert!(again.updated_at >= alice.updated_at);

    let bob = store.upsert_user("200", "bob", None).await.unwrap();
    assert_ne!(bob.id, alice.id);
    assert_eq!(bob.settings, json!({}));
    assert_eq!(
        store
            .user_by_discord_id("100")
            .await
            .unwrap()
            .unwrap()
            .settings,
        settings
    );

    let err = store
        .set_user_settings(alice.id + bob.id + 1000, &json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { entity: "user", .. }),
        "{err:?}"
    );
}

async fn sessions_crud_with_version_check(fx: Fixture) {
    let store = fx.connect().await;
    assert!(store.list_sessions().await.unwrap().is_empty());

    let mut first = NewSession::new("alice", "Alien");
    first.id = "first".into();
    first.current_item = Some("1234".into());
    first.state = json!({"paused": true, "position_ms": 0});
    let created = store.create_session(&first).await.unwrap();
    assert_eq!(created.id, "first");
    assert_eq!(created.version, 0);
    assert_eq!(created.state, first.state);
    assert_eq!(created.current_item.as_deref(), Some("1234"));

    let second = store
        .create_session(&NewSession::new("bob", "Heat"))
        .await
        .unwrap();
    assert_eq!(second.id.len(), marquee_store::db::SESSION_ID_LEN);

    let dup = store.create_session(&first).await.unwrap_err();
    assert!(matches!(dup, StoreError::Duplicate { .. }), "{dup:?}");

    assert_eq!(
        store.get_session("first").await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(store.get_session("missing").await.unwrap(), None);
    let ids: Vec<_> = store
        .list_sessions()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, vec!["first".to_string(), second.id.clone()]);

    let playing = json!({"paused": false, "position_ms": 61_000});
    let v1 = store
        .update_session("first", 0, Some("5678"), &playing)
        .await
        .unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(v1.state, playing);
    assert_eq!(v1.current_item.as_deref(), Some("5678"));
    assert_eq!(v1.created_at, created.created_at);

    // Stale writer: rejected, nothing changes.
    let err = store
        .update_session("first", 0, None, &json!({"paused": true}))
        .await
        .unwrap_err();
    match err {
        StoreError::VersionConflict {
            ref id,
            expected,
            actual,
        } => {
            assert_eq!((id.as_str(), expected, actual), ("first", 0, 1));
        }
        other => panic!("expected VersionConflict, got {other:?}"),
    }
    assert_eq!(store.get_session("first").await.unwrap(), Some(v1.clone()));
    // A writer from the future is rejected too.
    assert!(matches!(
        store.update_session("first", 5, None, &json!({})).await,
        Err(StoreError::VersionConflict { actual: 1, .. })
    ));

    let v2 = store
        .update_session("first", 1, None, &json!({"paused": true}))
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(v2.current_item, None);

    assert!(matches!(
        store.update_session("missing", 0, None, &json!({})).await,
        Err(StoreError::NotFound {
            entity: "session",
            ..
        })
    ));

    assert!(store.delete_session("first").await.unwrap());
    assert!(!store.delete_session("first").await.unwrap());
    assert_eq!(store.get_session("first").await.unwrap(), None);
    assert_eq!(store.list_sessions().await.unwrap().len(), 1);
}

async fn sessions_concurrent_updates_have_one_winner(fx: Fixture) {
    let store = fx.connect().await;
    let session = store
        .create_session(&NewSession::new("alice", "Race"))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let id = session.id.clone();
            tokio::spawn(async move {
                store
                    .update_session(&id, 0, None, &json!({ "writer": i }))
                    .await
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(row) => {
                winners += 1;
                assert_eq!(row.version, 1);
            }
            Err(StoreError::VersionConflict { actual: 1, .. }) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(
        store
            .get_session(&session.id)
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );
}

async fn media_cache_upsert_expiry_and_purge(fx: Fixture) {
    let store = fx.connect().await;
    let long = Duration::from_secs(3600);
    assert_eq!(store.get_media_cache("a").await.unwrap(), None);

    store
        .put_media_cache("a", &json!({"title": "Alien", "year": 1979}), long)
        .await
        .unwrap();
    store
        .put_media_cache("short", &json!({"title": "Brief"}), Duration::from_secs(1))
        .await
        .unwrap();
    // Same plex_id again: replaces the row (plex_id is unique).
    store
        .put_media_cache("a", &json!({"title": "Aliens", "year": 1986}), long)
        .await
        .unwrap();
    assert_eq!(
        store.get_media_cache("a").await.unwrap(),
        Some(json!({"title": "Aliens", "year": 1986}))
    );
    assert_eq!(
        store.get_media_cache("short").await.unwrap(),
        Some(json!({"title": "Brief"}))
    );

    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(store.get_media_cache("short").await.unwrap(), None);
    assert_eq!(store.purge_expired_media_cache().await.unwrap(), 1);
    assert_eq!(store.purge_expired_media_cache().await.unwrap(), 0);
    assert!(store.get_media_cache("a").await.unwrap().is_some());

    // Re-putting an expired entry revives it.
    store
        .put_media_cache("short", &json!({"title": "Again"}), long)
        .await
        .unwrap();
    assert_eq!(
        store.get_media_cache("short").await.unwrap(),
        Some(json!({"title": "Again"}))
    );
    // Two rows in total: "a" was upserted, not duplicated.
    assert_eq!(store.clear_media_cache().await.unwrap(), 2);
    assert_eq!(store.get_media_cache("a").await.unwrap(), None);
}

async fn preferences_per_scope(fx: Fixture) {
    let store = fx.connect().await;
    assert_eq!(store.get_preference("global", "theme").await.unwrap(), None);
    assert!(store.preferences("global").await.unwrap().is_empty());

    store
        .set_preference("global", "theme", &json!("light"))
        .await
        .unwrap();
    store
        .set_preference("global", "autoplay", &json!(true))
        .await
        .unwrap();
    store
        .set_preference("guild:123", "theme", &json!({"accent": "#ff0"}))
        .await
        .unwrap();
    store
        .set_preference("global", "theme", &json!("dark"))
        .await
        .unwrap();

    assert_eq!(
        store.get_preference("global", "theme").await.unwrap(),
        Some(json!("dark"))
    );
    assert_eq!(
        store.get_preference("guild:123", "theme").await.unwrap(),
        Some(json!({"accent": "#ff0"}))
    );
    assert_eq!(store.get_preference("user:5", "theme").await.unwrap(), None);
    assert_eq!(
        store.preferences("global").await.unwrap(),
        vec![
            ("autoplay".to_string(), json!(true)),
            ("theme".to_string(), json!("dark")),
        ]
    );
    assert_eq!(store.preferences("guild:123").await.unwrap().len(), 1);
}

#[tokio::test]
async fn sqlite_url_forms() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("nested/a.db");
    let store = Store::connect(Some(&format!("sqlite://{}", a.display())), dir.path())
        .await
        .unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    assert!(a.is_file());

    let b = dir.path().join("b.db");
    let store = Store::connect(Some(b.to_str().unwrap()), dir.path())
        .await
        .unwrap();
    store.ping().await.unwrap();
    assert!(b.is_file());
    // WAL mode is on (persisted in the file once set).
    assert!(dir.path().join("b.db-wal").exists() || dir.path().join("b.db-shm").exists());

    let err = Store::connect(Some("mysql://root:hunter2@db/x"), dir.path())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidUrl(_)), "{err:?}");
    assert!(!err.to_string().contains("hunter2"));
}

#[tokio::test]
async fn unreachable_postgres_is_a_connect_error_without_password() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::connect(
        Some("postgres://marquee:hunter2@127.0.0.1:1/marquee"),
        dir.path(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Connect { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
}
