// Browser tests: the library browser renders on the server, hydrates, and the player plays both
// a direct-play file and an HLS-only (transcoded) file in headless Chromium.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchBrowser, openMovie as openMovieAt, pressPlay, screenshot, startServer, waitForPlayback, HOOK, closeBrowser, tearDown,
} from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
}, HOOK);

after(() => tearDown(() => closeBrowser(browser), () => server?.stop()), HOOK);

async function newPage() {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { page, errors };
}

test('the home page is server-rendered with the demo sections', async () => {
  const html = await (await fetch(`${server.url}/`)).text();
  for (const title of ['Movies', 'TV Shows', 'Archive']) {
    assert.match(html, new RegExp(`>${title}<`), `section ${title} in the SSR HTML`);
  }
  assert.match(html, /marquee_bg\.wasm|marquee\.js/, 'the hydration script is referenced');
});

test('a missing item is a 404 page and a bad route is a 404', async () => {
  const missing = await fetch(`${server.url}/item/999999999`);
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /was not found/);
  const nowhere = await fetch(`${server.url}/no/such/page`);
  assert.equal(nowhere.status, 404);
});

/** Home → Movies → the movie titled `title` → Play; returns the watch page. */
function openMovie(title) {
  return openMovieAt(browser, server.url, title);
}

async function pressPlayAndWait(page) {
  await pressPlay(page);
  return waitForPlayback(page, 2.0);
}

test('direct play: a browser-playable movie plays past 2 s', async () => {
  const { page, errors } = await openMovie(process.env.MARQUEE_E2E_DIRECT_TITLE ?? 'Paper Satellites');
  const library = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await library.goto(`${server.url}/library/1`);
  await library.waitForLoadState('networkidle');
  await screenshot(library, 'library');
  await library.close();

  assert.equal(await page.locator('.player').getAttribute('data-mode'), 'direct');
  const state = await pressPlayAndWait(page);
  assert.ok(state.currentTime > 2, `currentTime ${state.currentTime}`);
  // Signed: it works only as written, and only for a while.
  assert.match(state.src, /\/media\/\d+\/\d+\/0\?exp=\d+&sig=[0-9a-f]{32}$/);
  await screenshot(page, 'player');
  assert.deepEqual(errors, []);
  await page.close();
});

test('HLS: a movie the browser cannot decode plays through the transcoder', async () => {
  const { page, errors } = await openMovie(process.env.MARQUEE_E2E_HLS_TITLE ?? 'Copper Sky');
  assert.equal(await page.locator('.player').getAttribute('data-mode'), 'hls');
  const state = await pressPlayAndWait(page);
  assert.ok(state.currentTime > 2, `currentTime ${state.currentTime}`);
  assert.match(state.src, /^blob:/, 'hls.js feeds the video through Media Source Extensions');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the seek bar and keyboard move playback; the time label follows', async () => {
  const { page } = await openMovie(process.env.MARQUEE_E2E_DIRECT_TITLE ?? 'Paper Satellites');
  await pressPlayAndWait(page);
  await page.keyboard.press('k');
  await page.waitForFunction(() => document.querySelector('video').paused);
  await page.keyboard.press('5');
  await page.waitForFunction(() => {
    const v = document.querySelector('video');
    return Math.abs(v.currentTime - v.duration / 2) < 1;
  });
  // The label follows the seek (60 s of a 2 min clip) without waiting for playback.
  await page.waitForFunction(() => /^(0:59|1:00) \/ 2:00$/.test(document.querySelector('.time').textContent), null, { timeout: 3000 });
  await page.keyboard.press('m');
  assert.equal(await page.evaluate(() => document.querySelector('video').muted), true);
  await page.close();
});

/** Moves the pointer to `fraction` of the seek bar; what the preview then shows, once loaded. */
async function hoverSeekBar(page, fraction) {
  const box = await page.locator('.seek').boundingBox();
  await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
  await page.waitForFunction(() => {
    const img = document.querySelector('.seek-preview img');
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 10_000 });
  return page.evaluate(async () => {
    const preview = document.querySelector('.seek-preview');
    const img = preview.querySelector('img');
    const bar = document.querySelector('.seek').getBoundingClientRect();
    const shown = preview.getBoundingClientRect();
    const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    return {
      src: img.getAttribute('src'),
      width: img.naturalWidth,
      label: preview.querySelector('span').textContent,
      centre: (shown.left + shown.width / 2 - bar.left) / bar.width,
      jpeg: bytes[0] === 0xff && bytes[1] === 0xd8,
      bytes: Array.from(bytes.slice(0, 4096)).join(','),
    };
  });
}

test('hovering the seek bar shows Plex\'s thumbnail of that moment', async () => {
  const { page, errors } = await openMovie(process.env.MARQUEE_E2E_DIRECT_TITLE ?? 'Paper Satellites');
  await page.waitForSelector('.player[data-ready="1"]');
  assert.equal(await page.locator('.seek-preview').count(), 0, 'nothing before the pointer comes');
  const half = await hoverSeekBar(page, 0.5);
  // 1:00 of the 2:00 clip: the thumbnail Plex made at 60 s (one every 2 s), through Marquee's
  // signed link (the time is the player's, the signature the part's).
  assert.match(half.src, /\/previews\/\d+\/0\/0\/(58000|60000)\?exp=\d+&sig=[0-9a-f]{32}$/);
  assert.match(half.label, /^(0:59|1:00)$/);
  assert.equal(half.width, 240);
  assert.ok(half.jpeg, 'a JPEG');
  assert.ok(Math.abs(half.centre - 0.5) < 0.02, `centred over the pointer: ${half.centre}`);
  await screenshot(page, 'seek-preview');
  const early = await hoverSeekBar(page, 0.1);
  assert.match(early.src, /\/previews\/\d+\/0\/0\/(10000|12000)\?/);
  assert.match(early.label, /^0:1[12]$/);
  assert.notEqual(early.bytes, half.bytes, 'another moment, another picture');
  await page.mouse.move(5, 5);
  await page.waitForFunction(() => !document.querySelector('.seek-preview'));
  assert.deepEqual(errors, []);
  await page.close();

  // A version Plex made no thumbnails of shows none.
  const hls = await openMovie(process.env.MARQUEE_E2E_HLS_TITLE ?? 'Copper Sky');
  await hls.page.waitForSelector('.player[data-ready="1"]');
  const box = await hls.page.locator('.seek').boundingBox();
  await hls.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await hls.page.waitForTimeout(300);
  assert.equal(await hls.page.locator('.seek-preview').count(), 0);
  await hls.page.close();
});

test('a media file that fails to load shows a readable message in the player', async () => {
  const { page } = await newPage();
  // The media request fails as it would if Plex dropped the file mid-evening.
  let fetches = 0;
  await page.route('**/media/**', (route) => {
    fetches += 1;
    return route.fulfill({ status: 502, body: 'upstream gone' });
  });
  await page.goto(`${server.url}/watch/105`);
  await page.waitForFunction(() => document.querySelector('.controls button.play'));
  for (let i = 0; i < 10 && !(await page.locator('.player-error').count()); i++) {
    await page.locator('.controls button.play').click();
    await page.waitForTimeout(500);
  }
  const text = await page.locator('.player-error').textContent();
  assert.match(text, /Can't play this video/);
  assert.match(text, /format|network/);
  // Pressing play again is the retry the message offers: the file is fetched again, and as it
  // still fails, the message comes back (it used to vanish, leaving a dead player).
  const before = fetches;
  await page.locator('.controls button.play').click();
  await page.locator('.player-error').waitFor({ timeout: 10000 });
  assert.ok(fetches > before, `the retry fetched the file again (${before} → ${fetches})`);
  await page.close();
});

test('a bad version number is refused with a readable message', async () => {
  const { page } = await newPage();
  // A version index that does not exist is refused by the server with a clear message.
  await page.goto(`${server.url}/watch/105?v=9`);
  assert.match(await page.locator('.error-box').textContent(), /version 9 does not exist/);
  await page.close();
});
