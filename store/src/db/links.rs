//! Voice channel ↔ watch session links (see [`ChannelLink`]).

use diesel::OptionalExtension;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;

use super::schema::channel_links;
use super::{ChannelLink, DbPool, NewChannelLink, SqliteAsync, Store, StoreError, now};
use diesel_async::AsyncPgConnection;

impl Store {
    /// Links a voice channel to a session, replacing the channel's previous link (a channel
    /// watches one session at a time). The now-playing message of an old link is forgotten.
    pub async fn put_channel_link(&self, new: &NewChannelLink) -> Result<ChannelLink, StoreError> {
        let ts = now();
        with_conn!(self, |conn| {
            Ok(diesel::insert_into(channel_links::table)
                .values((
                    channel_links::voice_channel_id.eq(&new.voice_channel_id),
                    channel_links::guild_id.eq(&new.guild_id),
                    channel_links::session_id.eq(&new.session_id),
                    channel_links::owner_discord_id.eq(&new.owner_discord_id),
                    channel_links::np_channel_id.eq(None::<String>),
                    channel_links::np_message_id.eq(None::<String>),
                    channel_links::activity_instance_id.eq(None::<String>),
                    channel_links::created_at.eq(ts),
                    channel_links::updated_at.eq(ts),
                ))
                .on_conflict(channel_links::voice_channel_id)
                .do_update()
                .set((
                    channel_links::guild_id.eq(excluded(channel_links::guild_id)),
                    channel_links::session_id.eq(excluded(channel_links::session_id)),
                    channel_links::owner_discord_id.eq(excluded(channel_links::owner_discord_id)),
                    channel_links::np_channel_id.eq(None::<String>),
                    channel_links::np_message_id.eq(None::<String>),
                    channel_links::activity_instance_id.eq(None::<String>),
                    channel_links::created_at.eq(ts),
                    channel_links::updated_at.eq(ts),
                ))
                .returning(ChannelLink::as_returning())
                .get_result(conn)
                .await?)
        })
    }

    /// The link of a voice channel, if it has one.
    pub async fn channel_link(
        &self,
        voice_channel_id: &str,
    ) -> Result<Option<ChannelLink>, StoreError> {
        with_conn!(self, |conn| {
            Ok(channel_links::table
                .find(voice_channel_id)
                .select(ChannelLink::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// Every voice channel watching `session_id` (normally one).
    pub async fn channel_links_of_session(
        &self,
        session_id: &str,
    ) -> Result<Vec<ChannelLink>, StoreError> {
        with_conn!(self, |conn| {
            Ok(channel_links::table
                .filter(channel_links::session_id.eq(session_id))
                .select(ChannelLink::as_select())
                .load(conn)
                .await?)
        })
    }

    /// Remembers where the now-playing message of a channel's session is.
    pub async fn set_now_playing_message(
        &self,
        voice_channel_id: &str,
        session_id: &str,
        channel_id: &str,
        message_id: &str,
    ) -> Result<bool, StoreError> {
        let ts = now();
        with_conn!(self, |conn| {
            let n = diesel::update(
                channel_links::table
                    .filter(channel_links::voice_channel_id.eq(voice_channel_id))
                    .filter(channel_links::session_id.eq(session_id)),
            )
            .set((
                channel_links::np_channel_id.eq(channel_id),
                channel_links::np_message_id.eq(message_id),
                channel_links::updated_at.eq(ts),
            ))
            .execute(conn)
            .await?;
            Ok(n > 0)
        })
    }

    /// Binds the Discord Activity instance launched in a voice channel to the channel's link, so
    /// later launches and the bot find the same session. `false` if the channel has no link to
    /// `session_id` (it was unlinked or relinked meanwhile).
    pub async fn set_channel_activity(
        &self,
        voice_channel_id: &str,
        session_id: &str,
        instance_id: &str,
    ) -> Result<bool, StoreError> {
        let ts = now();
        with_conn!(self, |conn| {
            let n = diesel::update(
                channel_links::table
                    .filter(channel_links::voice_channel_id.eq(voice_channel_id))
                    .filter(channel_links::session_id.eq(session_id)),
            )
            .set((
                channel_links::activity_instance_id.eq(instance_id),
                channel_links::updated_at.eq(ts),
            ))
            .execute(conn)
            .await?;
            Ok(n > 0)
        })
    }

    /// Unlinks a voice channel; `false` if it had no link. Guarded by `session_id` so a stale
    /// request cannot remove a newer link.
    pub async fn remove_channel_link(
        &self,
        voice_channel_id: &str,
        session_id: &str,
    ) -> Result<bool, StoreError> {
        with_conn!(self, |conn| {
            let n = diesel::delete(
                channel_links::table
                    .filter(channel_links::voice_channel_id.eq(voice_channel_id))
                    .filter(channel_links::session_id.eq(session_id)),
            )
            .execute(conn)
            .await?;
            Ok(n > 0)
        })
    }
}
