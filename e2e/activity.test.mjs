// The Discord Activity in headless Chromium: the fake Discord client's page embeds the Activity
// through a fake of Discord's proxy (everything under /.proxy/ on one origin), and answers the
// Embedded App SDK's handshake, AUTHORIZE, AUTHENTICATE and SUBSCRIBE. The Activity user signs
// in, starts the voice channel's session, and stays in sync with a viewer of the same session on
// the standalone page; a second Activity user in the same instance lands in the same session,
// where blocked autoplay asks her for one click.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  blockAutoplayIn, launchBrowser, openViewer, screenshot, startFakeDiscord, startServer, videoState,
  HOOK, closeBrowser, tearDown,
} from './harness.mjs';
import { startFakeActivityHost } from './fake-discord-client/host.mjs';

let discord, server, host, browser;

before(async () => {
  discord = await startFakeDiscord();
  server = await startServer({
    MARQUEE_DISCORD_CLIENT_ID: discord.applicationId,
    MARQUEE_DISCORD_CLIENT_SECRET: discord.clientSecret,
    MARQUEE_DISCORD_API_URL: discord.url,
    // The bot's token: Marquee asks Discord where an Activity instance runs and who is in it.
    DISCORD_TOKEN: discord.botToken,
    // Any Discord account may use it (the fake Discord process has no servers to be a member of).
    MARQUEE_ALLOWED_SERVERS: 'any',
    // Ben watches on the standalone page as a guest (with sign-in set up, guests are off unless
    // allowed).
    MARQUEE_GUESTS: 'true',
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

const ANA = ['900000000000000001', 'ana'];
const CLEO = ['900000000000000003', 'cleo'];
const PLACE = { instance: 'i-7f3a-launch-1', channel: '700000000000000001', guild: '600000000000000001' };

/** Opens the fake Discord client for `user`; returns the page and the Activity's frame. */
async function launch(user, { viewport = { width: 1280, height: 720 }, platform = 'desktop', blockAutoplay = false } = {}) {
  const context = await browser.newContext({ viewport, isMobile: platform === 'mobile', hasTouch: platform === 'mobile' });
  if (blockAutoplay) await blockAutoplayIn(context);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(host.launchUrl({ user, platform, participants: [ANA, CLEO], ...PLACE }));
  const frame = page.frameLocator('#activity');
  return { context, page, frame, errors };
}

const inFrame = (page) => page.frames().find((f) => f.url().includes('/.proxy/activity'));

async function frameVideo(page) {
  return inFrame(page).evaluate(() => {
    const v = document.querySelector('video');
    return { currentTime: v.currentTime, paused: v.paused };
  });
}

test('the Activity signs in through the SDK, joins the channel session and plays in sync with the web page', async () => {
  // Ana launches the Activity on her phone (portrait): nothing plays in the channel yet.
  const ana = await launch(ANA, { viewport: { width: 390, height: 844 }, platform: 'mobile', blockAutoplay: true });
  await ana.frame.locator('main.activity[data-stage="pick"]').waitFor({ timeout: 30_000 });
  assert.match(await ana.frame.locator('.activity-pick h1').textContent(), /Hi ana: nothing is playing/);
  assert.equal(await ana.frame.locator('.activity-participants').textContent(), '2 people in this Activity');

  // The SDK spoke to the fake client: handshake with our client id, then the commands.
  const seen = await ana.page.evaluate(() => window.fakeDiscord);
  assert.equal(seen.handshake.client_id, discord.applicationId);
  assert.equal(seen.handshake.encoding, 'json');
  for (const cmd of ['AUTHORIZE', 'AUTHENTICATE', 'SUBSCRIBE']) assert.ok(seen.commands.includes(cmd), `${cmd} in ${seen.commands}`);
  assert.deepEqual(seen.subscriptions, ['ACTIVITY_INSTANCE_PARTICIPANTS_UPDATE']);
  assert.deepEqual(seen.errors, []);

  // She picks a film: the channel's session starts, with her as host.
  await ana.frame.locator('.activity-pick input').fill('Babel');
  await ana.frame.locator('.activity-pick li:has-text("Babel Street") button').click();
  await ana.frame.locator('main.activity[data-stage="watching"] .session').waitFor({ timeout: 20_000 });
  const sessionId = await ana.frame.locator('.session').getAttribute('data-session');
  await ana.frame.locator('.sync-status[data-state="live"]').waitFor({ timeout: 20_000 });
  await ana.frame.locator('.members li[data-member="ana"] .badge:has-text("host")').waitFor();

  // Her "Watch" click was a gesture inside the iframe, so playback starts with sound at once.
  await inFrame(ana.page).waitForFunction(() => { const v = document.querySelector('video'); return v && !v.paused && v.currentTime > 1; }, null, { timeout: 20_000 });

  // Ben watches the same session on the standalone page.
  const ben = await openViewer(browser, server.url, sessionId, { name: 'Ben' });
  await ben.page.waitForSelector('.sync-status[data-state="live"]', { timeout: 20_000 });
  await ben.page.waitForFunction(() => { const v = document.querySelector('video'); return v && !v.paused && v.currentTime > 1; }, null, { timeout: 20_000 });
  await ben.page.waitForTimeout(2000);
  const [a, b] = await Promise.all([frameVideo(ana.page), videoState(ben.page)]);
  const gap = Math.abs(a.currentTime - b.currentTime);
  assert.ok(!a.paused && !b.paused, 'both playing');
  assert.ok(gap < 0.15, `Activity and web page in sync: gap ${gap.toFixed(3)} s`);

  // Ben pauses on the web page: the Activity follows within 1 s, and says who did it.
  const t0 = Date.now();
  await ben.page.click('.ctl.play');
  await inFrame(ana.page).waitForFunction(() => document.querySelector('video').paused, null, { timeout: 1000, polling: 20 });
  const pauseMs = Date.now() - t0;
  await inFrame(ana.page).waitForFunction(() => document.querySelector('.notice')?.textContent === 'Ben paused', null, { timeout: 2000 });
  await ana.page.waitForTimeout(300);
  const [a2, b2] = await Promise.all([frameVideo(ana.page), videoState(ben.page)]);
  assert.ok(Math.abs(a2.currentTime - b2.currentTime) < 0.1, `paused together: ${a2.currentTime} vs ${b2.currentTime}`);

  // Ana (the host) resumes from inside Discord: Ben follows.
  const t1 = Date.now();
  await ana.frame.locator('.ctl.play').click();
  await ben.page.waitForFunction(() => !document.querySelector('video').paused, null, { timeout: 1000, polling: 20 });
  const resumeMs = Date.now() - t1;
  await ben.page.waitForTimeout(1500);
  const [a3, b3] = await Promise.all([frameVideo(ana.page), videoState(ben.page)]);
  const gap2 = Math.abs(a3.currentTime - b3.currentTime);
  assert.ok(gap2 < 0.15, `in sync after resuming: gap ${gap2.toFixed(3)} s`);
  console.log(`Activity ↔ web page: gap while playing ${(gap * 1000).toFixed(0)} ms and ${(gap2 * 1000).toFixed(0)} ms; the Activity followed a pause in ${pauseMs} ms, the web page a resume in ${resumeMs} ms`);

  // The player's own menus work inside Discord too: Ana turns on French subtitles, which
  // load through the Activity's proxy and show over her video.
  await ana.frame.locator('select.subtitles').selectOption({ label: 'Français (SRT)' });
  await inFrame(ana.page).waitForFunction(() => {
    const t = [...document.querySelector('video').textTracks].find((x) => x.mode === 'showing');
    return /^Ligne française \d+$/.test(t?.activeCues?.[0]?.text ?? '');
  }, null, { timeout: 20_000 });
  assert.ok(await ana.frame.locator('select.audio').isVisible(), 'the audio menu in the Activity');

  // The portrait layout, for the README.
  await screenshot(ana.page, 'activity');
  const fits = await inFrame(ana.page).evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  assert.ok(fits, 'no sideways scrolling in the portrait layout');

  // Cleo opens the Activity in the same instance: straight into the same session, as a viewer.
  // She has not touched the iframe, which may not play sound yet: one click joins playback.
  const cleo = await launch(CLEO, { blockAutoplay: true });
  await cleo.frame.locator('main.activity[data-stage="watching"] .session').waitFor({ timeout: 30_000 });
  assert.equal(await cleo.frame.locator('.session').getAttribute('data-session'), sessionId);
  await cleo.frame.locator('.sync-status[data-state="live"]').waitFor({ timeout: 20_000 });
  await ana.frame.locator('.members li[data-member="cleo"]').waitFor({ timeout: 5000 });
  await cleo.frame.locator('.player-join').waitFor({ timeout: 20_000 });
  assert.equal((await frameVideo(cleo.page)).paused, true, 'blocked until the click');
  await cleo.frame.locator('.player-join').click();
  await inFrame(cleo.page).waitForFunction(() => { const v = document.querySelector('video'); return v && !v.paused && v.currentTime > 1; }, null, { timeout: 20_000 });
  // Her player catches up with the group (a seek, then a gentle rate change, as on the web page)
  // until her own drift reading says she is in sync; then the two frames agree.
  const clicked = Date.now();
  await inFrame(cleo.page).waitForFunction(() => document.querySelector('.sync-label')?.textContent === 'In sync', null, { timeout: 10_000, polling: 50 });
  const caughtUpMs = Date.now() - clicked;
  await cleo.page.waitForTimeout(500);
  const [a4, c4] = await Promise.all([frameVideo(ana.page), frameVideo(cleo.page)]);
  const gap3 = Math.abs(a4.currentTime - c4.currentTime);
  assert.ok(gap3 < 0.15, `Cleo in sync after her click: gap ${gap3.toFixed(3)} s`);
  console.log(`Cleo clicked to join: in sync ${caughtUpMs} ms after her click; then ${(gap3 * 1000).toFixed(0)} ms from Ana`);
  assert.equal(await cleo.frame.locator('.player-join').count(), 0);

  // Everything went through the proxy's mapping: no absolute URL escaped it.
  assert.deepEqual(host.unmapped, []);
  assert.deepEqual([...ana.errors, ...ben.errors, ...cleo.errors], []);
  for (const v of [ana, ben, cleo]) await v.context.close();
});

test('outside Discord the Activity page says how to open it', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/activity`);
  await page.waitForSelector('main.activity[data-stage="failed"]', { timeout: 20_000 });
  assert.match(await page.textContent('.problem'), /launch it from a voice channel in Discord/);
  await context.close();
});
