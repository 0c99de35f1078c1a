//! One diesel schema for both backends; the per-backend SQL lives in `migrations/`.

diesel::table! {
    users (id) {
        id -> BigInt,
        discord_id -> Text,
        username -> Text,
        avatar -> Nullable<Text>,
        settings -> Jsonb,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        host_name -> Text,
        title -> Text,
        current_item -> Nullable<Text>,
        state -> Jsonb,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    media_cache (id) {
        id -> BigInt,
        plex_id -> Text,
        metadata -> Jsonb,
        expires_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    preferences (id) {
        id -> BigInt,
        scope -> Text,
        key -> Text,
        value -> Jsonb,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    channel_links (voice_channel_id) {
        voice_channel_id -> Text,
        guild_id -> Text,
        session_id -> Text,
        owner_discord_id -> Text,
        np_channel_id -> Nullable<Text>,
        np_message_id -> Nullable<Text>,
        activity_instance_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        family -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        successor_hash -> Nullable<Text>,
    }
}

diesel::table! {
    member_keys (session_id, member_id) {
        session_id -> Text,
        member_id -> Text,
        key_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    plex_accounts (discord_id) {
        discord_id -> Text,
        plex_id -> BigInt,
        plex_username -> Text,
        plex_thumb -> Nullable<Text>,
        sealed_token -> Text,
        linked_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        session_id -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    audit_events,
    plex_accounts,
    users,
    sessions,
    media_cache,
    preferences,
    channel_links,
    refresh_tokens,
    member_keys
);
