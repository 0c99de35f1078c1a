// Signing in with Discord from the standalone page, end to end in headless Chromium: Marquee →
// the fake Discord's consent screen → back to Marquee, signed in; then signing out, a cancelled
// sign-in, and a share link that (guests being off) asks for a sign-in before it shows anything.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import {
  ARTIFACTS, createSession, launchBrowser, screenshot, startFakeDiscord, startServer, HOOK, closeBrowser, tearDown,
} from './harness.mjs';

const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef-xyz';
let discord, server, browser;

before(async () => {
  discord = await startFakeDiscord();
  server = await startServer({
    MARQUEE_DISCORD_CLIENT_ID: discord.applicationId,
    MARQUEE_DISCORD_CLIENT_SECRET: discord.clientSecret,
    MARQUEE_DISCORD_API_URL: discord.url,
    MARQUEE_ADMIN_TOKEN: ADMIN_TOKEN,
    // Any Discord account may sign in (the fake Discord process has no servers to be a member of).
    MARQUEE_ALLOWED_SERVERS: 'any',
  });
  browser = await launchBrowser();
}, HOOK);

after(() => tearDown(
  () => closeBrowser(browser),
  () => server?.stop(),
  () => discord?.stop(),
), HOOK);

test('signing in with Discord returns to the page, signed in; signing out ends it', async () => {
  await discord.signInAs({ id: '900000000000000001', username: 'ana' });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/library/1`);
  await page.click('a.sign-in');
  await page.waitForURL(`${server.url}/library/1`, { timeout: 10_000 });
  await page.waitForSelector('.account-name', { timeout: 10_000 });
  assert.equal(await page.textContent('.account-name'), 'ana');

  // The session cookies are HttpOnly (scripts cannot read them) and Secure; scripts see only
  // the secret-free "signed in" hint.
  const visible = await page.evaluate(() => document.cookie);
  assert.ok(!visible.includes('marquee_access') && !visible.includes('marquee_refresh'), visible);
  assert.ok(visible.includes('__Host-marquee_signed_in=1'), visible);
  const cookies = await context.cookies(server.url);
  const access = cookies.find((c) => c.name === '__Host-marquee_access');
  assert.ok(access && access.httpOnly && access.secure && access.sameSite === 'Lax', JSON.stringify(cookies));
  const me = await page.evaluate(async () => (await fetch('/api/me')).json());
  assert.equal(me.name, 'ana');
  await screenshot(page, 'signed-in');

  // The access cookie expires (15 minutes): the page refreshes the sign-in by itself.
  await context.clearCookies({ name: '__Host-marquee_access' });
  await page.reload();
  await page.waitForSelector('.account-name', { timeout: 10_000 });
  assert.equal(await page.textContent('.account-name'), 'ana');
  assert.ok((await context.cookies(server.url)).some((c) => c.name === '__Host-marquee_access'), 'a new access cookie');

  // The Sign out button (the corner also holds Link Plex's button, which comes first).
  await page.click('.account button[type="submit"]');
  await page.waitForSelector('a.sign-in', { timeout: 10_000 });
  const status = await page.evaluate(async () => (await fetch('/api/me')).status);
  assert.equal(status, 401);
  await context.close();
});

test('a sign-in cancelled on Discord ends on a clear page with a way to try again', async () => {
  await discord.signInAs(null);
  const page = await browser.newPage();
  await page.goto(`${server.url}/`);
  await page.click('a.sign-in');
  await page.waitForSelector('.auth-error', { timeout: 10_000 });
  assert.equal(await page.textContent('.auth-error'), 'You cancelled the sign-in on Discord.');
  assert.ok(await page.$('a[href="/auth/login"]'));
  await page.close();
});

test('with guests off, a share link asks a stranger to sign in, then opens the session', async () => {
  const session = await createSession(server.url, '101', 'Hostess Zelda', { adminToken: ADMIN_TOKEN });
  await discord.signInAs({ id: '900000000000000002', username: 'ben' });
  const context = await browser.newContext();
  await context.addInitScript(() => localStorage.setItem('marquee.name', 'Ben'));
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const first = await page.goto(`${server.url}/session/${session.id}`);
  assert.equal(first.status(), 401);
  assert.equal((await page.textContent('.sign-in-required h2')).trim(), 'Sign in to watch');
  const shown = await page.textContent('body');
  assert.ok(!shown.includes('Hostess Zelda') && !shown.includes('Harbor Lights'), shown);
  assert.equal(await page.$('video'), null);
  await page.screenshot({ path: join(ARTIFACTS, 'sign-in-to-watch.png') });

  await page.click('.sign-in-required a.button');
  await page.waitForURL(`${server.url}/session/${session.id}`, { timeout: 10_000 });
  await page.waitForSelector('.members li[data-member="Hostess Zelda"]', { timeout: 10_000 });
  await page.waitForSelector('.sync-status[data-state="live"]', { timeout: 20_000 });
  assert.equal(await page.textContent('.account-name'), 'ben');
  assert.deepEqual(errors, []);
  await context.close();
});
