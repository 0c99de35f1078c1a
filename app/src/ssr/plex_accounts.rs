//! Viewers' own Plex accounts ("Link Plex"): the plex.tv PIN sign-in, polled on the server, and
//! the linked accounts' tokens for this Marquee's Plex server, sealed at rest.
//!
//! A link starts with [`PlexAccounts::start`]: a PIN from plex.tv, remembered in the shared cache
//! for the person (so any web server can carry on), and the address of Plex's auth app for the
//! person to approve it. Each [`PlexAccounts::status`] while one is pending asks plex.tv about the
//! PIN once; when it carries a token, the person's account and their own token for this server
//! (from their resources) are looked up, checked against the server, sealed and stored. The
//! session's progress reporter reads them back with [`PlexAccounts::clients_for`].

use marquee_plex::plextv::PlexTv;
use marquee_plex::{PlexClient, PlexError};
use marquee_store::secret::TokenSealer;
use marquee_store::{Cache, Store, cache::Tier};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::model::{PlexLinkState, PlexLinked};

/// Why linking did not work, in words for the person.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("The sign-in with Plex expired before it was approved. Start again with Link Plex.")]
    Expired,
    #[error(
        "The Plex account {username} has no access to this Marquee's Plex server. Ask the server's owner to share the library with it, or sign in to Plex with another account."
    )]
    NoAccess { username: String },
    #[error("plex.tv could not be reached: {0}")]
    PlexTv(#[source] PlexError),
    #[error("Marquee could not store the link: {0}")]
    Store(#[from] marquee_store::StoreError),
    #[error("Marquee could not keep the sign-in: {0}")]
    Cache(#[from] marquee_store::cache::CacheError),
}

/// A link under way: the PIN to ask plex.tv about, or why it failed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    pin: i64,
    problem: Option<String>,
}

/// What [`PlexAccounts::start`] gives the person: where to approve.
#[derive(Debug, Clone)]
pub struct Started {
    pub auth_url: String,
}

/// See the module docs.
pub struct PlexAccounts {
    plextv: PlexTv,
    sealer: TokenSealer,
    store: Store,
    cache: Cache,
    /// The server, as its owner: which server the resources must name, and each linked
    /// viewer's client is made from it.
    plex: PlexClient,
    machine: tokio::sync::OnceCell<String>,
}

impl std::fmt::Debug for PlexAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlexAccounts").finish_non_exhaustive()
    }
}

fn pending_key(discord_id: &str) -> String {
    format!("plex-link:{discord_id}")
}

impl PlexAccounts {
    pub fn new(
        plextv: PlexTv,
        sealer: TokenSealer,
        store: Store,
        cache: Cache,
        plex: PlexClient,
    ) -> Self {
        PlexAccounts {
            plextv,
            sealer,
            store,
            cache,
            plex,
            machine: tokio::sync::OnceCell::new(),
        }
    }

    /// Starts linking for `discord_id` (replacing a link under way).
    pub async fn start(&self, discord_id: &str) -> Result<Started, LinkError> {
        let pin = self.plextv.create_pin().await.map_err(LinkError::PlexTv)?;
        self.cache
            .set(
                Tier::System,
                &pending_key(discord_id),
                &Pending {
                    pin: pin.id,
                    problem: None,
                },
            )
            .await?;
        tracing::info!(discord_id, "Plex link started");
        Ok(Started {
            auth_url: self.plextv.auth_app_url(&pin.code),
        })
    }

    /// Where `discord_id`'s link stands, finishing it when plex.tv has the approval.
    pub async fn status(&self, discord_id: &str) -> Result<PlexLinkState, LinkError> {
        if let Some(row) = self.store.plex_account(discord_id).await? {
            return Ok(linked(row));
        }
        let key = pending_key(discord_id);
        let Some(pending) = self.cache.get::<Pending>(&key).await? else {
            return Ok(PlexLinkState::unlinked());
        };
        if let Some(problem) = pending.problem {
            return Ok(PlexLinkState {
                problem: Some(problem),
                ..PlexLinkState::unlinked()
            });
        }
        let pin = match self.plextv.check_pin(pending.pin).await {
            Ok(pin) => pin,
            Err(PlexError::NotFound { .. }) => return self.fail(&key, LinkError::Expired).await,
            Err(e) => return Err(LinkError::PlexTv(e)),
        };
        let Some(token) = pin.auth_token else {
            return Ok(PlexLinkState {
                pending: true,
                ..PlexLinkState::unlinked()
            });
        };
        match self.finish(discord_id, &token).await {
            Ok(state) => {
                let _ = self.cache.invalidate(&key).await;
                Ok(state)
            }
            Err(e @ LinkError::NoAccess { .. }) => self.fail(&key, e).await,
            Err(e) => Err(e),
        }
    }

    /// Remembers why the link failed, so the person reads it on their next look.
    async fn fail(&self, key: &str, why: LinkError) -> Result<PlexLinkState, LinkError> {
        let problem = why.to_string();
        tracing::info!(problem, "Plex link failed");
        self.cache
            .set(
                Tier::System,
                key,
                &Pending {
                    pin: 0,
                    problem: Some(problem.clone()),
                },
            )
            .await?;
        Ok(PlexLinkState {
            problem: Some(problem),
            ..PlexLinkState::unlinked()
        })
    }

    async fn finish(
        &self,
        discord_id: &str,
        plextv_token: &SecretString,
    ) -> Result<PlexLinkState, LinkError> {
        let user = self
            .plextv
            .user(plextv_token)
            .await
            .map_err(LinkError::PlexTv)?;
        let machine = self
            .machine
            .get_or_try_init(|| async { self.plex.identity().await.map(|i| i.machine_identifier) })
            .await
            .map_err(LinkError::PlexTv)?;
        let no_access = || LinkError::NoAccess {
            username: user.username.clone(),
        };
        let token = self
            .plextv
            .resources(plextv_token)
            .await
            .map_err(LinkError::PlexTv)?
            .into_iter()
            .find(|r| r.is_server() && r.client_identifier == *machine)
            .and_then(|r| r.access_token)
            .ok_or_else(no_access)?;
        // The server itself must take the token (a share can be withdrawn while plex.tv still
        // lists it for a while).
        let as_viewer = self.plex.as_account(&token).map_err(LinkError::PlexTv)?;
        match as_viewer.sections().await {
            Ok(_) => {}
            Err(PlexError::Unauthorized) => return Err(no_access()),
            Err(e) => return Err(LinkError::PlexTv(e)),
        }
        use secrecy::ExposeSecret as _;
        let sealed = self.sealer.seal(discord_id, token.expose_secret());
        self.store
            .put_plex_account(
                discord_id,
                user.id,
                &user.username,
                user.thumb.as_deref(),
                &sealed,
            )
            .await?;
        tracing::info!(discord_id, plex_user = user.id, "Plex account linked");
        Ok(PlexLinkState {
            linked: Some(PlexLinked {
                username: user.username,
            }),
            ..PlexLinkState::unlinked()
        })
    }

    /// Unlinks `discord_id`'s Plex account (and drops a link under way).
    pub async fn unlink(&self, discord_id: &str) -> Result<(), LinkError> {
        let _ = self.cache.invalidate(&pending_key(discord_id)).await;
        if self.store.delete_plex_account(discord_id).await? {
            tracing::info!(discord_id, "Plex account unlinked");
        }
        Ok(())
    }

    /// Clients on this server as each of these Discord users' linked Plex accounts (those who
    /// linked one and whose token still opens), as (Discord id, client).
    pub async fn clients_for(
        &self,
        discord_ids: &[String],
    ) -> Result<Vec<(String, PlexClient)>, LinkError> {
        let rows = self.store.plex_accounts_of(discord_ids).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let token = match self.sealer.open(&row.discord_id, &row.sealed_token) {
                    Ok(t) => t,
                    Err(e) => {
                        tracing::warn!(discord_id = row.discord_id, error = %e, "a linked Plex token does not open");
                        return None;
                    }
                };
                let client = self.plex.as_account(&token.into()).ok()?;
                Some((row.discord_id, client))
            })
            .collect())
    }
}

fn linked(row: marquee_store::PlexAccountRow) -> PlexLinkState {
    PlexLinkState {
        linked: Some(PlexLinked {
            username: row.plex_username,
        }),
        ..PlexLinkState::unlinked()
    }
}
