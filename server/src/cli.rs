//! The `marquee` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Marquee: watch a Plex library together, in sync, from Discord or a browser.
#[derive(Debug, Parser)]
#[command(name = "marquee", version, about)]
pub struct Cli {
    /// A TOML config file (default: ./marquee.toml if present). Environment variables override it.
    #[arg(long, global = true, env = "MARQUEE_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default); with DISCORD_TOKEN set, the Discord bot runs in it.
    Serve,
    /// Run only the Discord bot, next to web servers sharing DATABASE_URL and REDIS_URL.
    Bot,
    /// Work with the running server's cache.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Work with the Plex library through the running server.
    Library {
        #[command(subcommand)]
        action: LibraryAction,
    },
    /// Print the effective configuration (secrets are never printed).
    Config,
    /// Generate the demo library's media now (normally done at first start).
    DemoMedia,
    /// Exit 0 if the running server answers `/healthz`: a container's health check, which needs
    /// no curl in the image.
    Health {
        /// The server to ask (default: the configured bind address, on loopback if it is 0.0.0.0).
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Drop every cached entry (in-process or Redis) and the stored metadata copies.
    Clear {
        /// The server to talk to (default: the configured bind address).
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum LibraryAction {
    /// Ask Plex to rescan a section and drop what Marquee cached about it.
    Refresh {
        /// The section key (as in /library/{key}).
        section: String,
        #[arg(long)]
        url: Option<String>,
    },
}
