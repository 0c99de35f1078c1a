//! `marquee`: run the server or talk to a running one.

use std::process::ExitCode;

use clap::Parser;
use secrecy::ExposeSecret;
use server::cli::{CacheAction, Cli, Command, LibraryAction};
use server::config::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("marquee: {err}");
            return ExitCode::from(2);
        }
    };
    server::telemetry::init_logging(&config.log);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            if config.demo_mode() {
                tracing::info!(
                    "Marquee {} starting with no PLEX_URL: the built-in demo library will be served at http://{}/",
                    env!("CARGO_PKG_VERSION"),
                    config.bind
                );
            } else {
                tracing::info!("Marquee {} starting", env!("CARGO_PKG_VERSION"));
            }
            server::startup::run(config)
                .await
                .map_err(|e| e.to_string())
        }
        Command::Bot => server::startup::run_bot(config)
            .await
            .map_err(|e| e.to_string()),
        Command::Cache {
            action: CacheAction::Clear { url },
        } => admin_post(&config, url, "/api/admin/cache/clear").await,
        Command::Library {
            action: LibraryAction::Refresh { section, url },
        } => {
            admin_post(
                &config,
                url,
                &format!("/api/admin/library/{section}/refresh"),
            )
            .await
        }
        Command::Config => match serde_json::to_string_pretty(&config) {
            Ok(text) => {
                println!("{text}");
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        },
        Command::DemoMedia => {
            let dir = server::demo::media_dir(&config);
            marquee_fakes::plex::ensure_media(&dir)
                .await
                .map(|_| println!("demo media ready in {}", dir.display()))
                .map_err(|e| e.to_string())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("marquee: {err}");
            ExitCode::FAILURE
        }
    }
}

/// POST to an admin endpoint of a running server with the admin token.
async fn admin_post(config: &Config, url: Option<String>, path: &str) -> Result<(), String> {
    let base = url.unwrap_or_else(|| format!("http://{}", config.bind));
    let token = match &config.admin_token {
        Some(t) => t.expose_secret().to_string(),
        None => std::fs::read_to_string(config.data_dir.join("admin-token"))
            .map(|s| s.trim().to_string())
            .map_err(|e| {
                format!("no admin token: set MARQUEE_ADMIN_TOKEN or start the server once ({e})")
            })?,
    };
    let response = reqwest::Client::new()
        .post(format!("{}{path}", base.trim_end_matches('/')))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| format!("could not reach Marquee at {base}: {e}"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status.is_success() {
        println!("{body}");
        Ok(())
    } else {
        Err(format!("the server answered {status}: {body}"))
    }
}
