// Browser tests of shared sessions: two headless Chromium viewers on one session follow each
// other's pause, seek and resume within 1 s, on one server and on two server processes sharing
// PostgreSQL + Redis; a joiner whose browser blocks autoplay gets one "click to join" action.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createSession, dropPostgresDatabase, freshPostgresDatabase, launchBrowser, openViewer, screenshot, startServer,
  videoState, HOOK, closeBrowser, tearDown,
} from './harness.mjs';

let browser;
let server;
const servers = [];
const databases = [];

before(async () => {
  browser = await launchBrowser();
  server = await startServer();
  servers.push(server);
}, HOOK);

after(async () => {
  await tearDown(() => closeBrowser(browser), ...servers.map((s) => () => s.stop()));
  for (const db of databases) dropPostgresDatabase(db);
}, HOOK);

const FOLLOW_MS = 1000;

/**
 * Waits until `pred()` holds in the page; returns how long it took (ms). `pred` is a function
 * (not a string): the pages' Content-Security-Policy forbids evaluating strings, and the tests
 * run under it like any browser.
 */
async function follows(page, pred) {
  const start = Date.now();
  await page.waitForFunction(pred, null, { timeout: 5000, polling: 20 });
  return Date.now() - start;
}

async function pauseSeekResume(url1, url2, label, benClockSkewMs = 0) {
  const { id, member, member_key: memberKey } = await createSession(url1, '105', 'Ana');
  const ana = await openViewer(browser, url1, id, { name: 'Ana', member, memberKey });
  const ben = await openViewer(browser, url2, id, { name: 'Ben', clockSkewMs: benClockSkewMs });
  for (const v of [ana, ben]) {
    await v.page.waitForSelector('.sync-status[data-state="live"]', { timeout: 20_000 });
  }
  await ben.page.waitForSelector('.members li[data-member="Ana"]');
  await ana.page.waitForSelector('.members li[data-member="Ben"]');

  // Ana presses play: both play.
  await ana.page.click('.ctl.play');
  for (const v of [ana, ben]) {
    await follows(v.page, () => { const el = document.querySelector('video'); return !!el && (!el.paused && el.currentTime > 1.0); });
  }
  await ana.page.waitForTimeout(1500);

  // Pause: Ben follows within 1 s, and sees who did it.
  await ana.page.click('.ctl.play');
  const pauseMs = await follows(ben.page, () => { const el = document.querySelector('video'); return !!el && (el.paused); });
  await ben.page.waitForFunction(() => document.querySelector('.notice')?.textContent === 'Ana paused', null, { timeout: 2000 });
  await ana.page.waitForFunction(() => document.querySelector('video').paused);
  await ana.page.waitForTimeout(300);
  const [a1, b1] = [await videoState(ana.page), await videoState(ben.page)];
  assert.ok(Math.abs(a1.currentTime - b1.currentTime) < 0.1, `paused together: ${a1.currentTime} vs ${b1.currentTime}`);

  // Seek (via the seek bar): Ben lands on the same frame.
  await ana.page.evaluate(() => {
    const input = document.querySelector('.seek-input');
    input.value = '20';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  });
  const seekMs = await follows(ben.page, () => { const el = document.querySelector('video'); return !!el && (Math.abs(el.currentTime - 20) < 0.1); });
  await ben.page.waitForFunction(() => /Ana jumped to 0:20/.test(document.querySelector('.notice')?.textContent ?? ''), null, { timeout: 2000 });

  // Resume: both play on from 0:20 together.
  await ana.page.click('.ctl.play');
  const resumeMs = await follows(ben.page, () => { const el = document.querySelector('video'); return !!el && (!el.paused && el.currentTime > 20.2); });
  await ana.page.waitForTimeout(2000);
  const [a2, b2] = await Promise.all([videoState(ana.page), videoState(ben.page)]);
  const gap = Math.abs(a2.currentTime - b2.currentTime);
  assert.ok(!a2.paused && !b2.paused, 'both playing');
  assert.ok(gap < 0.15, `playing together after resume: gap ${gap.toFixed(3)} s`);

  console.log(`${label}: Ben followed pause in ${pauseMs} ms, seek in ${seekMs} ms, resume in ${resumeMs} ms; gap while playing ${(gap * 1000).toFixed(0)} ms`);
  for (const ms of [pauseMs, seekMs, resumeMs]) assert.ok(ms <= FOLLOW_MS, `${label}: followed in ${ms} ms`);
  assert.deepEqual([...ana.errors, ...ben.errors], []);
  return { ana, ben };
}

test('two viewers on one server follow each other within 1 s, though one clock is 90 s off', async () => {
  // Ben's computer clock is wrong: sync must come from the server's clock, not the local one.
  const { ana, ben } = await pauseSeekResume(server.url, server.url, 'one server', 90_000);
  await screenshot(ben.page, 'session');
  await ana.context.close();
  await ben.context.close();
});

test('two viewers on two server processes (PostgreSQL + Redis) follow each other within 1 s', async () => {
  const db = freshPostgresDatabase();
  databases.push(db);
  const env = {
    DATABASE_URL: db,
    REDIS_URL: process.env.MARQUEE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    MARQUEE_REDIS_NAMESPACE: `marquee-e2e-${Date.now()}`,
  };
  const a = await startServer(env);
  servers.push(a);
  const b = await startServer(env);
  servers.push(b);
  const { ana, ben } = await pauseSeekResume(a.url, b.url, 'two servers');
  await ana.context.close();
  await ben.context.close();
});

test('a late joiner starts where the group is, and blocked autoplay asks for one click', async () => {
  const { id, member, member_key: memberKey } = await createSession(server.url, '105', 'Ana');
  const ana = await openViewer(browser, server.url, id, { name: 'Ana', member, memberKey });
  await ana.page.waitForSelector('.sync-status[data-state="live"]');
  await ana.page.click('.ctl.play');
  await follows(ana.page, () => { const el = document.querySelector('video'); return !!el && (!el.paused && el.currentTime > 4); });

  // A browser that requires a user gesture before playing sound.
  const cy = await openViewer(browser, server.url, id, { name: 'Cy', blockAutoplay: true });
  try {
    await cy.page.waitForSelector('.player-join', { timeout: 20_000 });
    const anaBefore = await videoState(ana.page);
    await cy.page.click('.player-join');
    await follows(cy.page, () => { const el = document.querySelector('video'); return !!el && (!el.paused && el.currentTime > 4); });
    await cy.page.waitForTimeout(1500);
    const [a, c] = await Promise.all([videoState(ana.page), videoState(cy.page)]);
    assert.ok(!anaBefore.paused && !a.paused, 'the join did not disturb Ana');
    assert.ok(Math.abs(a.currentTime - c.currentTime) < 0.15, `in sync after the click: ${a.currentTime} vs ${c.currentTime}`);
    assert.equal(await cy.page.locator('.player-join').count(), 0);
  } finally {
    await cy.context.close();
    await ana.context.close();
  }
});

test('a stalled viewer makes the group wait, visibly', async () => {
  const { id, member, member_key: memberKey } = await createSession(server.url, '105', 'Ana');
  const ana = await openViewer(browser, server.url, id, { name: 'Ana', member, memberKey });
  const ben = await openViewer(browser, server.url, id, { name: 'Ben' });
  for (const v of [ana, ben]) await v.page.waitForSelector('.sync-status[data-state="live"]');
  await ana.page.click('.ctl.play');
  await follows(ben.page, () => { const el = document.querySelector('video'); return !!el && (!el.paused && el.currentTime > 1); });
  // Ben's player stalls (as a slow network would make it): his tab reports it, everyone waits.
  await ben.page.evaluate(() => document.querySelector('video').dispatchEvent(new Event('waiting')));
  await ana.page.waitForFunction(() => /Waiting for Ben/.test(document.querySelector('.notice')?.textContent ?? ''), null, { timeout: 3000 });
  await follows(ana.page, () => { const el = document.querySelector('video'); return !!el && (el.paused); });
  await ana.page.waitForSelector('.members li.buffering[data-member="Ben"]');
  // He recovers: the group resumes together.
  await ben.page.evaluate(() => document.querySelector('video').dispatchEvent(new Event('playing')));
  await follows(ana.page, () => { const el = document.querySelector('video'); return !!el && (!el.paused); });
  await ana.page.waitForFunction(() => /Everyone is ready/.test(document.querySelector('.notice')?.textContent ?? ''), null, { timeout: 3000 });
});

test('the session page for an unknown session is a 404 with a readable message', async () => {
  const r = await fetch(`${server.url}/session/doesnotexist`);
  assert.equal(r.status, 404);
  assert.match(await r.text(), /watch session/);
});

test('the host decides who drives: a refused viewer is told why, and can drive once promoted', async () => {
  const { id, member, member_key: memberKey } = await createSession(server.url, '105', 'Ana');
  const ana = await openViewer(browser, server.url, id, { name: 'Ana', member, memberKey });
  // Ana joins first: a session whose host is not connected yet goes to the first one who joins.
  await ana.page.waitForSelector('.sync-status[data-state="live"]', { timeout: 20_000 });
  const ben = await openViewer(browser, server.url, id, { name: 'Ben' });
  await ben.page.waitForSelector('.sync-status[data-state="live"]', { timeout: 20_000 });
  await ana.page.waitForSelector('.members li[data-member="Ben"]');

  // Only the host sees the policy and the role buttons.
  assert.equal(await ben.page.$('.control-policy select'), null);
  await ana.page.selectOption('.control-policy select', 'host_only');
  await ben.page.waitForFunction(
    () => document.querySelector('.control-note')?.textContent === 'Only the host can control playback in this session.',
    null, { timeout: 5000 },
  );
  assert.ok(await ben.page.$eval('.queue-controls', (el) => el.classList.contains('hidden')), 'queue controls hidden');
  await screenshot(ana.page, 'session-host');

  // Ben presses play anyway (the player's button): refused, with the reason, and nothing plays.
  await ben.page.click('.ctl.play');
  await ben.page.waitForFunction(
    () => /Only the host can control playback/.test(document.querySelector('.problem')?.textContent ?? ''),
    null, { timeout: 5000 },
  );
  await ben.page.waitForTimeout(500);
  assert.equal((await videoState(ana.page)).paused, true, 'the refusal changed nothing');

  // Ana hands Ben the host role: now he drives, and both play.
  await ana.page.click('.members li[data-member="Ben"] button:has-text("Make host")');
  await ben.page.waitForSelector('.members li[data-member="Ben"] .badge:has-text("host")', { timeout: 5000 });
  await ben.page.click('.ctl.play');
  await follows(ana.page, () => { const el = document.querySelector('video'); return !!el && !el.paused && el.currentTime > 0.5; });
  for (const v of [ana, ben]) await v.page.context().close();
});
