// Entry point of the Discord Embedded App SDK bundle (`/pkg/discord-sdk.js`), built by esbuild
// from the npm package at build time: the Activity page's WASM loads it and reaches the SDK
// through `window.MarqueeDiscord` (see app/src/activity/sdk.rs).
import { DiscordSDK } from '@discord/embedded-app-sdk';

window.MarqueeDiscord = { DiscordSDK };
