// "Link Plex" end to end in headless Chromium, against the demo's fake plex.tv: on the standalone
// page the auth app opens in a new window; inside the Discord Activity (an iframe that may not
// open windows) it goes through the SDK's openExternalLink, which the fake Discord client
// answers, and the test plays the person's browser by opening the link it was given. Either way
// the person approves with one of their Plex accounts, and the page shows the link once the
// server has seen the approval at plex.tv. An account that has no access to the server is told
// so. Inside the Activity, an item with a resume point offers it. (That a linked viewer's progress lands on their own Plex account is shown against the
// fake Plex by server/tests/api/plex_link.rs.)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  launchBrowser, screenshot, startFakeDiscord, startServer, HOOK, closeBrowser, tearDown,
} from './harness.mjs';
import { startFakeActivityHost } from './fake-discord-client/host.mjs';

let discord, server, host, browser;

before(async () => {
  discord = await startFakeDiscord();
  server = await startServer({
    MARQUEE_DISCORD_CLIENT_ID: discord.applicationId,
    MARQUEE_DISCORD_CLIENT_SECRET: discord.clientSecret,
    MARQUEE_DISCORD_API_URL: discord.url,
    DISCORD_TOKEN: discord.botToken,
    MARQUEE_ALLOWED_SERVERS: 'any',
  });
  host = await startFakeActivityHost({ marqueeUrl: server.url, discordUrl: discord.url, clientId: discord.applicationId });
  browser = await launchBrowser();
}, HOOK);

after(() => tearDown(
  () => closeBrowser(browser),
  () => host?.stop(),
  () => server?.stop(),
  () => discord?.stop(),
), HOOK);

/** Signs `user` in on the standalone page; returns the context and page, on /library/1. */
async function signedInPage(user) {
  await discord.signInAs({ id: user[0], username: user[1] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/library/1`);
  await page.click('a.sign-in');
  await page.waitForURL(`${server.url}/library/1`, { timeout: 10_000 });
  await page.waitForSelector('.account-name', { timeout: 10_000 });
  return { context, page };
}

test('on the page: Link Plex opens Plex in a new window, and the page shows the account once approved', async () => {
  const { context, page } = await signedInPage(['900000000000000001', 'ana']);
  const link = page.locator('button.plex-link');
  await link.waitFor({ timeout: 10_000 });
  const [popup] = await Promise.all([context.waitForEvent('page'), link.click()]);
  await popup.waitForLoadState();
  const auth = new URL(popup.url());
  assert.equal(auth.pathname, '/auth');
  const params = new URLSearchParams(auth.hash.replace(/^#\??/, ''));
  assert.equal(params.get('context[device][product]'), 'Marquee');
  assert.ok(params.get('code')?.length >= 20, 'a strong PIN');
  // The page waits for the approval, polling its server (the browser never talks to plex.tv).
  await page.locator('.plex-pending').waitFor({ timeout: 10_000 });
  assert.ok(!page.url().includes(params.get('code')), 'the PIN is not in the page address');
  await screenshot(page, 'plex-link-waiting');

  await popup.click('button[data-user="river"]');
  await popup.locator('#result', { hasText: 'Signed in' }).waitFor({ timeout: 10_000 });
  await page.locator('.plex-linked strong', { hasText: 'river' }).waitFor({ timeout: 15_000 });
  await screenshot(page, 'plex-linked');

  // Stored: a new page load shows it; Unlink ends it.
  await page.reload();
  await page.locator('.plex-linked strong', { hasText: 'river' }).waitFor({ timeout: 10_000 });
  await page.click('button.plex-unlink');
  await link.waitFor({ timeout: 10_000 });
  await page.reload();
  await link.waitFor({ timeout: 10_000 });
  await context.close();
});

test('on the page: a Plex account without access to the server is told so, and can try another', async () => {
  const { context, page } = await signedInPage(['900000000000000002', 'ben']);
  const [popup] = await Promise.all([context.waitForEvent('page'), page.click('button.plex-link')]);
  await popup.click('button[data-user="outsider"]');
  const problem = page.locator('.plex-problem');
  await problem.waitFor({ timeout: 15_000 });
  assert.match(await problem.textContent(), /outsider has no access to this Marquee's Plex server/);
  await screenshot(page, 'plex-link-no-access');
  const [again] = await Promise.all([context.waitForEvent('page'), page.click('button.plex-link')]);
  await again.click('button[data-user="juniper"]');
  await page.locator('.plex-linked strong', { hasText: 'juniper' }).waitFor({ timeout: 15_000 });
  assert.equal(await problem.count(), 0, 'the old problem is gone');
  await context.close();
});

test('in the Activity: Link Plex goes through Discord\'s openExternalLink and shows the account', async () => {
  const cleo = ['900000000000000003', 'cleo'];
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(host.launchUrl({
    user: cleo, instance: 'i-plex-link-1', channel: '700000000000000009', guild: '600000000000000001', participants: [cleo],
  }));
  const frame = page.frameLocator('#activity');
  await frame.locator('main.activity[data-stage="pick"]').waitFor({ timeout: 30_000 });
  await frame.locator('button.plex-link').click();
  await frame.locator('.plex-pending').waitFor({ timeout: 10_000 });
  // Discord's client was asked to open the auth app; the iframe opened no window of its own.
  const opened = await page.evaluate(() => window.fakeDiscord.externalLinks);
  assert.equal(opened.length, 1, JSON.stringify(opened));
  assert.equal(context.pages().length, 1, 'no popup from inside the Activity');
  assert.match(opened[0], /\/auth#\?clientID=/);

  // The person's browser, outside Discord, opens the link and approves.
  const outside = await browser.newPage();
  await outside.goto(opened[0]);
  await outside.click('button[data-user="juniper"]');
  await outside.locator('#result', { hasText: 'Signed in' }).waitFor({ timeout: 10_000 });
  await outside.close();
  await frame.locator('.plex-linked strong', { hasText: 'juniper' }).waitFor({ timeout: 15_000 });
  await screenshot(page, 'activity-plex-linked');

  // In the Activity too, an item Plex has a resume point for offers it.
  await frame.locator('.activity-pick input').fill('Harbor');
  await frame.locator('.activity-pick li:has-text("Harbor Lights") button').click();
  const offer = frame.locator('.resume-offer');
  await offer.waitFor({ timeout: 30_000 });
  assert.match(await offer.innerText(), /Resume from 0:21\s*Start over/);
  await offer.locator('button:has-text("Resume from")').click();
  await offer.waitFor({ state: 'detached', timeout: 10_000 });
  const inActivity = page.frames().find((f) => f.url().includes('/.proxy/activity'));
  await inActivity.waitForFunction(() => {
    const v = document.querySelector('video');
    return v && v.currentTime >= 21 && !v.paused;
  }, null, { timeout: 20_000 });
  assert.deepEqual(errors, []);
  await context.close();
});
