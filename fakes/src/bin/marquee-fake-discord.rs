//! `marquee-fake-discord`: the fake Discord as its own process, for the browser tests (which
//! start Marquee as a process too). Prints `listening on http://127.0.0.1:PORT` once ready and
//! runs until killed. `POST /_fake/sign-in` with `{"id": "…", "username": "…"}` chooses who the
//! OAuth2 consent screen signs in; `POST /_fake/authorization-code` with the same body returns
//! `{"code": …}`, a code as the Embedded App SDK's `authorize` would get for that user.

use marquee_fakes::discord::{FakeDiscord, FakeDiscordOptions};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = std::env::args()
        .skip_while(|a| a != "--port")
        .nth(1)
        .map(|p| p.parse::<u16>())
        .transpose()?
        .unwrap_or(0);
    let fake = FakeDiscord::start_on(FakeDiscordOptions::default(), port).await?;
    println!("listening on {}", fake.base_url());
    std::future::pending::<()>().await;
    Ok(())
}
