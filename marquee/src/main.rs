//! `marquee`: run the server or talk to a running one. The built site is inside this binary
//! (see `build.rs` and `server::site`), so it runs from any directory with nothing beside it.

use std::process::ExitCode;

use clap::Parser;
use secrecy::ExposeSecret;
use server::cli::{CacheAction, Cli, Command, LibraryAction};
use server::config::Config;
use server::config::settings::{PlexSource, Settings};

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("marquee: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run());
    // Whatever is still running once the server has stopped (connections cut at the end of the
    // grace period, a blocking file read) must not hold the process open.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}

/// The site `build.rs` packed (empty when it found no built site: then a site directory serves).
static SITE: &[server::site::EmbeddedFile] = include!(concat!(env!("OUT_DIR"), "/site.rs"));

async fn run() -> ExitCode {
    server::site::install(SITE);
    let cli = Cli::parse();
    // Read and parse the configuration once; everything below runs on the typed settings.
    let (config, settings) = match Config::load(cli.config.as_deref())
        .and_then(|config| config.settings().map(|settings| (config, settings)))
    {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("marquee: {err}");
            return ExitCode::from(2);
        }
    };
    server::telemetry::init_logging(&settings.log, settings.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            if settings.demo_mode() {
                tracing::info!(
                    "Marquee {} starting with no PLEX_URL: the built-in demo library will be served at http://{}/",
                    env!("CARGO_PKG_VERSION"),
                    settings.bind
                );
            } else {
                tracing::info!("Marquee {} starting", env!("CARGO_PKG_VERSION"));
            }
            server::startup::run(settings)
                .await
                .map_err(|e| e.to_string())
        }
        Command::Bot => server::startup::run_bot(settings)
            .await
            .map_err(|e| e.to_string()),
        Command::Cache {
            action: CacheAction::Clear { url },
        } => admin_post(&settings, url, "/api/admin/cache/clear").await,
        Command::Library {
            action: LibraryAction::Refresh { section, url },
        } => {
            admin_post(
                &settings,
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
        Command::DemoMedia => match settings.plex.source {
            PlexSource::Demo { media_dir, .. } => marquee_fakes::plex::ensure_media(&media_dir)
                .await
                .map(|_| println!("demo media ready in {}", media_dir.display()))
                .map_err(|e| e.to_string()),
            PlexSource::Server { .. } => {
                Err("PLEX_URL is set: there is no demo library to prepare".into())
            }
        },
        Command::Health { url } => health(&settings, url).await,
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

/// The base URL of the server this process would run: its bind address, reached on loopback
/// when it listens on every address.
fn local_base(settings: &Settings) -> String {
    let mut bind = settings.bind;
    if bind.ip().is_unspecified() {
        bind.set_ip(if bind.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    format!("http://{bind}")
}

/// An HTTP client for talking to a running server, giving up after `secs`.
fn client(secs: u64) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(secs))
        .build()
        .map_err(|e| format!("cannot make an HTTP client: {e}"))
}

/// GET `/healthz` of a running server, briefly: a health check must answer fast or fail.
async fn health(settings: &Settings, url: Option<String>) -> Result<(), String> {
    let base = url.unwrap_or_else(|| local_base(settings));
    let status = client(3)?
        .get(format!("{}/healthz", base.trim_end_matches('/')))
        .send()
        .await
        .map_err(|e| format!("could not reach Marquee at {base}: {e}"))?
        .status();
    if status.is_success() {
        println!("ok");
        Ok(())
    } else {
        Err(format!("Marquee at {base} answered {status}"))
    }
}

/// POST to an admin endpoint of a running server with the admin token.
async fn admin_post(settings: &Settings, url: Option<String>, path: &str) -> Result<(), String> {
    let base = url.unwrap_or_else(|| local_base(settings));
    let token = match &settings.admin_token {
        Some(t) => t.expose_secret().to_string(),
        None => std::fs::read_to_string(settings.data_dir.join("admin-token"))
            .map(|s| s.trim().to_string())
            .map_err(|e| {
                format!("no admin token: set MARQUEE_ADMIN_TOKEN or start the server once ({e})")
            })?,
    };
    // A library rescan can take a while on a big server, but not forever.
    let response = client(120)?
        .post(format!("{}{path}", base.trim_end_matches('/')))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| format!("could not reach Marquee at {base}: {e}"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| format!("the server answered {status} but its reply was cut off: {e}"))?;
    if status.is_success() {
        println!("{body}");
        Ok(())
    } else {
        Err(format!("the server answered {status}: {body}"))
    }
}
