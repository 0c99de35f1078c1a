-- Which watch session a Discord voice channel is watching, who started it, and where the bot's
-- now-playing message is (so it can be edited as the session changes). No foreign key on
-- session_id: a link whose session was deleted is kept until the bot next uses it, so it can
-- tell the channel its session ended rather than pretend none was ever started.
CREATE TABLE channel_links (
    voice_channel_id TEXT PRIMARY KEY NOT NULL,
    guild_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    owner_discord_id TEXT NOT NULL,
    np_channel_id TEXT,
    np_message_id TEXT,
    activity_instance_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX channel_links_session ON channel_links (session_id);
