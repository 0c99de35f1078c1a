// The home page's rows from Plex and from Marquee's own sessions, and Plex's watch state in the
// library, in headless Chromium: "Watching now" lists a session under way (what plays, where,
// who is there) with a Join that lands in it; "Recently added" shows Plex's newest items; a
// movie marked watched on its page gets a check on its poster, and unmarked loses it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  createSession, launchBrowser, openViewer, screenshot, startServer, HOOK, closeBrowser, tearDown,
} from './harness.mjs';

const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef-xyz';
let server, browser;

before(async () => {
  server = await startServer({ MARQUEE_ADMIN_TOKEN: ADMIN_TOKEN });
  browser = await launchBrowser();
}, HOOK);

after(() => tearDown(() => closeBrowser(browser), () => server?.stop()), HOOK);

/** Reloads `page` until `done()` holds or `ms` pass; whether it held. */
async function reloadUntil(page, done, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await page.waitForTimeout(250);
    await page.reload();
  }
}

test('home: Watching now lists the session under way, and Join lands in it; Recently added shows Plex\'s newest', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${server.url}/`);
  assert.equal(await page.locator('.watching-now').count(), 0, 'no session yet, no row');
  const recent = page.locator('.recently-added .card');
  assert.ok(await recent.count() >= 5, 'Plex\'s newest items');
  assert.match(await recent.first().textContent(), /\S/);

  const created = await createSession(server.url, '2110', 'Rosa', { adminToken: ADMIN_TOKEN });
  const rosa = await openViewer(browser, server.url, created.id, { name: 'Rosa', member: created.member, memberKey: created.member_key });
  await rosa.page.waitForSelector('video');
  // Rosa is in once her page has hydrated and its socket joined (a slow machine takes a while
  // to compile the dev bundle).
  await rosa.page.waitForFunction(() => document.querySelector('.members')?.textContent.includes('Rosa'), null, { timeout: 60_000 });

  const card = page.locator('.watching-card');
  assert.ok(await reloadUntil(page, async () => await card.count() > 0, 20_000), 'the session under way is listed');
  assert.equal(await card.count(), 1);
  assert.match(await card.locator('.watching-title').textContent(), /First Flame/);
  assert.match(await card.locator('.watching-at').textContent(), /^(Paused|Playing) · 0:\d\d \/ 2:00$/);
  assert.equal(await card.locator('.watching-who').textContent(), 'Rosa');
  assert.ok(await card.locator('.watching-poster img').count() === 1, 'the episode\'s poster');
  await screenshot(page, 'home-watching-now');

  await card.locator('a.watching-join').click();
  await page.waitForURL(`${server.url}/session/${created.id}`);
  await page.waitForSelector('video');

  // Everyone leaves: the session is no longer under way.
  await rosa.context.close();
  await page.goto('about:blank');
  const home = await browser.newPage();
  await home.goto(`${server.url}/`);
  const gone = await reloadUntil(home, async () => await home.locator('.watching-card').count() === 0, 20_000);
  assert.ok(gone, 'nobody is left in it, so it is no longer listed');
  await home.close();
  await page.close();
});

test('a movie marked watched gets a check on its poster; marked unwatched, loses it', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}/item/104`);
  const toggle = page.locator('button.mark-watched');
  await toggle.waitFor();
  assert.equal(await toggle.getAttribute('data-watched'), '0');
  await toggle.click();
  await page.locator('button.mark-watched[data-watched="1"]').waitFor({ timeout: 10_000 });

  await page.goto(`${server.url}/library/1`);
  const poster = page.locator('.card[data-key="104"]');
  await poster.locator('.card-watched').waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('.card[data-key="105"] .card-watched').count(), 0, 'only that one');
  await screenshot(page, 'library-watched');

  await page.goto(`${server.url}/item/104`);
  await page.locator('button.mark-watched[data-watched="1"]').click();
  await page.locator('button.mark-watched[data-watched="0"]').waitFor({ timeout: 10_000 });
  await page.goto(`${server.url}/library/1`);
  await page.locator('.card[data-key="104"]').waitFor();
  assert.equal(await page.locator('.card[data-key="104"] .card-watched').count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a show part-way through shows how many episodes are left', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // The first season's first episode, watched.
  await page.goto(`${server.url}/item/2110`);
  await page.locator('button.mark-watched[data-watched="0"]').click();
  await page.locator('button.mark-watched[data-watched="1"]').waitFor({ timeout: 10_000 });
  await page.goto(`${server.url}/item/201`);
  const season = page.locator('.card[data-key="211"]');
  await season.locator('.card-unwatched').waitFor({ timeout: 10_000 });
  const left = Number(await season.locator('.card-unwatched').textContent());
  assert.ok(left >= 1, `${left} left`);
  // The whole show, watched: every season gets its check.
  await page.locator('button.mark-watched[data-watched="0"]').click();
  await page.locator('button.mark-watched[data-watched="1"]').waitFor({ timeout: 10_000 });
  await season.locator('.card-watched').waitFor({ timeout: 10_000 });
  await screenshot(page, 'show-watched');
  await page.locator('button.mark-watched[data-watched="1"]').click();
  await page.locator('button.mark-watched[data-watched="0"]').waitFor({ timeout: 10_000 });
  await page.close();
});
