-- Marquee schema (SQLite). Timestamps are UTC `TIMESTAMP` text written by diesel;
-- JSON columns hold SQLite's binary JSONB (diesel's `Jsonb` type encodes it).
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    discord_id TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    avatar TEXT,
    settings BLOB NOT NULL DEFAULT (jsonb('{}')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    host_name TEXT NOT NULL,
    title TEXT NOT NULL,
    current_item TEXT,
    state BLOB NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE media_cache (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plex_id TEXT NOT NULL UNIQUE,
    metadata BLOB NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX media_cache_expires_at ON media_cache (expires_at);

CREATE TABLE preferences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (scope, key)
);
