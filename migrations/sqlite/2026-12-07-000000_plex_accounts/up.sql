-- Viewers' own Plex accounts ("Link Plex"): who they are on plex.tv and their token for this
-- Marquee's Plex server, sealed (XChaCha20-Poly1305, key from the configuration) so a copy of
-- the database gives nobody their Plex account. One link per Discord user.
CREATE TABLE plex_accounts (
    discord_id TEXT PRIMARY KEY NOT NULL,
    plex_id BIGINT NOT NULL,
    plex_username TEXT NOT NULL,
    plex_thumb TEXT,
    sealed_token TEXT NOT NULL,
    linked_at TIMESTAMP NOT NULL
);
