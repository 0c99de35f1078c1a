-- Marquee schema (PostgreSQL). Timestamps are UTC in `TIMESTAMP` (no time zone) so that one
-- diesel schema maps to `NaiveDateTime` on both backends.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    discord_id TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    avatar TEXT,
    settings JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    host_name TEXT NOT NULL,
    title TEXT NOT NULL,
    current_item TEXT,
    state JSONB NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE media_cache (
    id BIGSERIAL PRIMARY KEY,
    plex_id TEXT NOT NULL UNIQUE,
    metadata JSONB NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX media_cache_expires_at ON media_cache (expires_at);

CREATE TABLE preferences (
    id BIGSERIAL PRIMARY KEY,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value JSONB NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (scope, key)
);
