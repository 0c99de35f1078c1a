//! Bindings to Discord's Embedded App SDK (`@discord/embedded-app-sdk` from npm, bundled by the
//! build into `/pkg/discord-sdk.js`, which puts the `DiscordSDK` class on
//! `window.MarqueeDiscord`). Only what the Activity uses is bound.

use wasm_bindgen::prelude::*;

/// The SDK bundle's plain name under `/pkg/` (see [`crate::assets`]).
pub const SCRIPT: &str = "discord-sdk.js";
/// The global the bundle defines.
pub const GLOBAL: &str = "MarqueeDiscord";

#[wasm_bindgen]
extern "C" {
    /// One SDK per page: it reads `frame_id`, `instance_id`, `platform`, `channel_id` and
    /// `guild_id` from the page's query string and talks to Discord's client (the parent
    /// frame) over `postMessage`.
    #[wasm_bindgen(js_namespace = MarqueeDiscord, js_name = DiscordSDK)]
    #[derive(Clone)]
    pub type DiscordSdk;

    /// Throws when the launch parameters are missing (the page was not opened by Discord).
    #[wasm_bindgen(constructor, catch, js_namespace = MarqueeDiscord, js_class = "DiscordSDK")]
    pub fn new(client_id: &str) -> Result<DiscordSdk, JsValue>;

    /// Resolves after the handshake with Discord's client.
    #[wasm_bindgen(method)]
    pub fn ready(this: &DiscordSdk) -> js_sys::Promise;

    #[wasm_bindgen(method, getter)]
    pub fn commands(this: &DiscordSdk) -> SdkCommands;

    /// Subscribes `listener` to a Discord event (`ACTIVITY_INSTANCE_PARTICIPANTS_UPDATE`, …).
    #[wasm_bindgen(method)]
    pub fn subscribe(
        this: &DiscordSdk,
        event: &str,
        listener: &js_sys::Function,
    ) -> js_sys::Promise;

    #[wasm_bindgen(method, getter, js_name = instanceId)]
    pub fn instance_id(this: &DiscordSdk) -> String;

    #[wasm_bindgen(method, getter, js_name = channelId)]
    pub fn channel_id(this: &DiscordSdk) -> Option<String>;

    #[wasm_bindgen(method, getter, js_name = guildId)]
    pub fn guild_id(this: &DiscordSdk) -> Option<String>;

    /// `sdk.commands`.
    pub type SdkCommands;

    /// Asks Discord for an OAuth2 code for this user (resolves to `{ code }`).
    #[wasm_bindgen(method)]
    pub fn authorize(this: &SdkCommands, args: &JsValue) -> js_sys::Promise;

    /// Asks Discord's client to open `{ url }` in the person's browser, after it asks them
    /// (resolves to `{ opened }`).
    #[wasm_bindgen(method, js_name = openExternalLink)]
    pub fn open_external_link(this: &SdkCommands, args: &JsValue) -> js_sys::Promise;

    /// Tells Discord's client the user's access token (resolves to the user and scopes).
    #[wasm_bindgen(method)]
    pub fn authenticate(this: &SdkCommands, args: &JsValue) -> js_sys::Promise;
}
