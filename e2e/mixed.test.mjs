// Issue 14: one session, one viewer playing the original file and one a Plex transcode (HLS)
// of the same ten-minute item. Each follows the other's pause, seek and resume within 1 s, and
// a group seek to 90 % (far past what the transcode has made) has both playing there within
// 3 s.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createSession, launchBrowser, openViewer, screenshot, seekBar, startServer, videoState, HOOK, closeBrowser,
  tearDown,
} from './harness.mjs';

let browser;
let server;

before(async () => {
  browser = await launchBrowser();
  server = await startServer();
}, HOOK);

after(() => tearDown(() => closeBrowser(browser), () => server?.stop()), HOOK);

/** The ten-minute demo movie (H.264: direct-playable, and transcoded on request). */
const LONG_MOVIE = '106';

async function within(page, ms, pred, arg) {
  const start = Date.now();
  await page.waitForFunction(pred, arg, { timeout: ms + 4000, polling: 20 });
  return Date.now() - start;
}

const playingPast = (t) => { const v = document.querySelector('video'); return !!v && !v.paused && v.currentTime > t; };
/** Really playing at `t`: not seeking, frames ahead, and the clock past `t` by 0.3 s. */
const playingFrom = (t) => {
  const v = document.querySelector('video');
  return !!v && !v.paused && !v.seeking && v.readyState >= 3 && v.currentTime > t + 0.3;
};
const pausedNow = () => { const v = document.querySelector('video'); return !!v && v.paused; };
const near = (t) => { const v = document.querySelector('video'); return !!v && Math.abs(v.currentTime - t) < 0.15; };

async function mixedSession() {
  const { id, member, member_key: memberKey } = await createSession(server.url, LONG_MOVIE, 'Ana');
  const ana = await openViewer(browser, server.url, id, { name: 'Ana', member, memberKey });
  const ben = await openViewer(browser, server.url, id, { name: 'Ben', query: '?quality=2000' });
  for (const v of [ana, ben]) {
    await v.page.waitForSelector('.sync-status[data-state="live"]', { timeout: 20_000 });
  }
  assert.equal(await ana.page.getAttribute('.player', 'data-mode'), 'direct');
  assert.equal(await ben.page.getAttribute('.player', 'data-mode'), 'hls');
  await ana.page.waitForSelector('.members li[data-member="Ben"]');
  return { ana, ben };
}

test('a direct-play and an HLS viewer follow each other within 1 s', async () => {
  const { ana, ben } = await mixedSession();
  const report = [];
  const step = async (who, other, label, act, pred, arg) => {
    await act(who.page);
    const ms = await within(other.page, 1000, pred, arg);
    report.push(`${label} ${ms} ms`);
    assert.ok(ms <= 1000, `${label}: followed in ${ms} ms`);
  };
  const play = (p) => p.click('.ctl.play');

  await play(ana.page);
  for (const v of [ana, ben]) await within(v.page, 10_000, playingPast, 1.0);
  await ana.page.waitForTimeout(1500);
  // Direct → HLS, then HLS → direct: pause, seek, resume.
  for (const [who, other, to] of [[ana, ben, 20], [ben, ana, 41]]) {
    const name = who === ana ? 'direct→hls' : 'hls→direct';
    await step(who, other, `${name} pause`, play, pausedNow);
    await who.page.waitForFunction(pausedNow);
    await step(who, other, `${name} seek`, (p) => seekBar(p, to), near, to);
    await step(who, other, `${name} resume`, play, playingPast, to + 0.2);
    await who.page.waitForTimeout(2000);
    const [a, b] = await Promise.all([videoState(ana.page), videoState(ben.page)]);
    const gap = Math.abs(a.currentTime - b.currentTime);
    report.push(`${name} gap ${(gap * 1000).toFixed(0)} ms`);
    assert.ok(!a.paused && !b.paused, 'both playing');
    assert.ok(gap < 0.15, `${name}: playing together, gap ${gap.toFixed(3)} s`);
  }
  console.log(`mixed session: ${report.join(', ')}`);
  await screenshot(ben.page, 'mixed-hls-viewer');
  assert.deepEqual([...ana.errors, ...ben.errors], []);
  await ana.context.close();
  await ben.context.close();
});

test('an HLS viewer seeks the group to 90 % and both play there within 3 s', async () => {
  const { ana, ben } = await mixedSession();
  await ben.page.click('.ctl.play');
  for (const v of [ana, ben]) await within(v.page, 10_000, playingPast, 1.0);
  await ben.page.waitForTimeout(1000);
  const target = 540; // 90 % of ten minutes: far past what the transcode has made
  const started = Date.now();
  await seekBar(ben.page, target);
  await Promise.all([ana, ben].map((v) => within(v.page, 3000, playingFrom, target)));
  const ms = Date.now() - started;
  console.log(`group seek to 90 %: both playing at ${target} s after ${ms} ms`);
  assert.ok(ms <= 3000, `both playing at 90 % in ${ms} ms`);
  // Then the two converge: the HLS viewer, just started on a fresh rendition, may still be
  // closing the gap at a faster rate 2 s on (seen on CI: 156 ms apart at rate 1.12), so it gets
  // until 5 s after the seek to be within 150 ms.
  await ben.page.waitForTimeout(2000);
  let a, b;
  const deadline = Date.now() + 3000;
  for (;;) {
    [a, b] = await Promise.all([videoState(ana.page), videoState(ben.page)]);
    if (Math.abs(a.currentTime - b.currentTime) < 0.15 || Date.now() > deadline) break;
    await ben.page.waitForTimeout(100);
  }
  console.log(`after the seek: ${Math.abs(a.currentTime - b.currentTime) * 1000 | 0} ms apart at ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.ok(!a.paused && !b.paused && b.currentTime > target + 1, JSON.stringify({ a, b }));
  assert.ok(Math.abs(a.currentTime - b.currentTime) < 0.15, JSON.stringify({ a, b }));
  assert.deepEqual([...ana.errors, ...ben.errors], []);
  await ana.context.close();
  await ben.context.close();
});

test('when Plex ends a transcode, the viewer reads Plex\'s reason, not a spinner', async () => {
  // A demo Plex that ends a silent transcode after 2 s, and a Marquee that reports only every
  // 6 s: Plex ends the stream, and says why in its next timeline answer.
  const strict = await startServer({ MARQUEE_DEMO_TRANSCODE_STOP_SECS: '2', MARQUEE_PLEX_TIMELINE_MS: '6000' });
  try {
    const { id, member, member_key: memberKey } = await createSession(strict.url, LONG_MOVIE, 'Ana');
    const ana = await openViewer(browser, strict.url, id, { name: 'Ana', member, memberKey, query: '?quality=1000' });
    await ana.page.waitForSelector('.sync-status[data-state="live"]', { timeout: 20_000 });
    await ana.page.click('.ctl.play');
    await ana.page.waitForSelector('.player-error', { timeout: 40_000 });
    await ana.page.waitForFunction(
      () => /stopped reporting playback/.test(document.querySelector('.player-error')?.textContent ?? ''),
      null,
      { timeout: 30_000 },
    );
    assert.equal(await ana.page.locator('.player-spinner').count(), 0, 'no spinner under the message');
    await screenshot(ana.page, 'plex-ended-stream');
    await ana.context.close();
  } finally {
    await strict.stop();
  }
});
