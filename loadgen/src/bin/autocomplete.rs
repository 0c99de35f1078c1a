//! `marquee-autocomplete-bench`: how fast `/play` autocomplete answers on a large library.
//!
//! Starts a fake Discord, runs a `marquee serve` process (the demo library: 5,000 archive films
//! plus the demo movies and show) with its bot connected to the fake, then types into `/play`'s
//! title option: each keystroke is an INTERACTION_CREATE on the gateway, and the time measured is
//! until the bot's autocomplete callback reaches the fake's REST API: the whole round trip a
//! Discord user waits for, minus the internet.
//!
//! Example: `marquee-autocomplete-bench --bin target/release/marquee --media target/demo-media`

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::Parser;
use marquee_fakes::discord::{FakeDiscord, FakeDiscordOptions, FakeGuild, FakeUser};
use serde_json::json;

#[derive(Parser, Debug)]
struct Args {
    /// The `marquee` binary to benchmark.
    #[arg(long)]
    bin: PathBuf,
    /// Demo media directory (made once by `marquee demo-media`).
    #[arg(long)]
    media: PathBuf,
    /// Keystrokes to measure with a warm cache.
    #[arg(long, default_value_t = 2000)]
    keystrokes: usize,
    /// Port for the server.
    #[arg(long, default_value_t = 3931)]
    port: u16,
    /// Run the server in scale-out mode on this PostgreSQL database (needs --redis-url too).
    #[arg(long)]
    database_url: Option<String>,
    /// ...and this Redis (the title list is then cached in Redis).
    #[arg(long)]
    redis_url: Option<String>,
    /// Also wait out the bot's 30 s index reuse and time the keystroke that rebuilds the index
    /// from the (warm) cache.
    #[arg(long)]
    rebuild: bool,
}

/// What people type: prefixes of words in the library's titles, growing letter by letter, and a
/// few that match nothing.
fn keystrokes(n: usize) -> Vec<String> {
    let words = [
        "amber",
        "distant",
        "hollow",
        "velvet",
        "northern",
        "broken",
        "silent",
        "crimson",
        "harvest",
        "signal",
        "meridian",
        "tide",
        "parade",
        "engine",
        "garden",
        "frontier",
        "harbor lights",
        "copper sky",
        "lanterns",
        "no. 42",
        "quiet",
        "zzyzx",
    ];
    let typed: Vec<String> = words
        .iter()
        .flat_map(|w| (1..=w.len()).map(|i| w[..i].to_owned()))
        .collect();
    typed.iter().cycle().take(n).cloned().collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let discord = FakeDiscord::start(FakeDiscordOptions::default()).await?;
    let user = FakeUser::new(900_000_000_000_000_001, "ana");
    discord.add_guild(FakeGuild {
        id: 900_000_000_000_000_100,
        name: "Bench".into(),
        owner_id: user.id,
        text_channel: 900_000_000_000_000_101,
        voice_channels: vec![900_000_000_000_000_102],
        roles: Vec::new(),
        members: vec![user.clone()],
        voice: vec![(user.id, 900_000_000_000_000_102)],
    });
    let data = std::env::temp_dir().join(format!("marquee-ac-bench-{}", std::process::id()));
    let mut command = tokio::process::Command::new(&args.bin);
    command.env_remove("DATABASE_URL").env_remove("REDIS_URL");
    if let (Some(db), Some(redis)) = (&args.database_url, &args.redis_url) {
        command
            .env("DATABASE_URL", db)
            .env("REDIS_URL", redis)
            .env(
                "MARQUEE_REDIS_NAMESPACE",
                format!("marquee-ac-bench-{}", std::process::id()),
            )
            .env("MARQUEE_BOT_IN_SERVER", "true");
    }
    let mut server = command
        .arg("serve")
        .env("MARQUEE_BIND", format!("127.0.0.1:{}", args.port))
        .env("MARQUEE_DATA_DIR", &data)
        .env("MARQUEE_DEMO_MEDIA_DIR", &args.media)
        .env("DISCORD_TOKEN", discord.token())
        .env("MARQUEE_DISCORD_API_URL", discord.base_url())
        .env("MARQUEE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    discord.identified(Duration::from_secs(60)).await?;
    discord.registered_commands(Duration::from_secs(30)).await?;

    let typed = |text: &str| json!([{"name": "title", "type": 3, "value": text, "focused": true}]);
    let started = Instant::now();
    let first = discord.autocomplete(&user, "play", typed("amb")).await?;
    let cold_ms = started.elapsed().as_secs_f64() * 1000.0;
    let titles = first.choices().len();

    let mut samples = Vec::with_capacity(args.keystrokes);
    let mut empty = 0;
    for text in keystrokes(args.keystrokes) {
        let t = Instant::now();
        let reply = discord.autocomplete(&user, "play", typed(&text)).await?;
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
        if reply.choices().is_empty() {
            empty += 1;
        }
    }
    samples.sort_by(f64::total_cmp);
    let mode = if args.redis_url.is_some() {
        "scale-out: PostgreSQL + Redis"
    } else {
        "embedded: SQLite + in-process cache"
    };
    println!("{mode}; library: 5,000 archive films + demo items");
    println!(
        "cold first keystroke (titles fetched from Plex into the cache): {cold_ms:.1} ms ({titles} choices)"
    );
    println!(
        "warm cache, {} keystrokes ({} with no match): p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        samples.len(),
        empty,
        percentile(&samples, 0.50),
        percentile(&samples, 0.95),
        percentile(&samples, 0.99),
        samples.last().copied().unwrap_or_default(),
    );
    if args.rebuild {
        tokio::time::sleep(Duration::from_secs(31)).await;
        let t = Instant::now();
        discord.autocomplete(&user, "play", typed("silent")).await?;
        println!(
            "keystroke that rebuilds the index from the warm cache (every 30 s): {:.1} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
    }
    server.kill().await?;
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}
