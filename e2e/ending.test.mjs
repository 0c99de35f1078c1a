// Browser tests of the end of an item, with two viewers of one session on the demo show
// ("Lanterns of Vell": every episode has an intro at 0:03–0:15 and final credits in its last
// 12 s): the next episode starts for both after the "Up next" countdown, in sync; a driver can
// cancel it and the session finishes; "Skip intro" jumps everyone past the intro, and a viewer
// who may not drive sees no button.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createSession, launchBrowser, openViewer, screenshot, seekBar, startServer, videoState, HOOK,
  closeBrowser, tearDown,
} from './harness.mjs';

let browser;
let server;

before(async () => {
  browser = await launchBrowser();
  server = await startServer();
}, HOOK);

after(async () => {
  await tearDown(() => closeBrowser(browser), () => server.stop());
}, HOOK);

// Season 1 of the demo show: S01E01 "First Flame" (2110), S01E02 "The Long Street" (2111).
const FIRST = '2110';

async function twoViewers(ratingKey) {
  const { id, member, member_key: memberKey } = await createSession(server.url, ratingKey, 'Ana');
  const ana = await openViewer(browser, server.url, id, { name: 'Ana', member, memberKey });
  const ben = await openViewer(browser, server.url, id, { name: 'Ben' });
  for (const v of [ana, ben]) {
    await v.page.waitForSelector('.sync-status[data-state="live"]', { timeout: 20_000 });
  }
  await ana.page.waitForSelector('.members li[data-member="Ben"]');
  return { id, ana, ben };
}

async function playing(page, after) {
  await page.waitForFunction((t) => {
    const v = document.querySelector('video');
    return !!v && !v.paused && v.currentTime > t;
  }, after, { timeout: 20_000, polling: 50 });
}

async function sessionApi(id) {
  const r = await fetch(`${server.url}/api/sessions/${id}`);
  assert.equal(r.status, 200);
  return r.json();
}

test('an episode reaches its end and the next starts for both after the Up next countdown', async () => {
  const { id, ana, ben } = await twoViewers(FIRST);
  try {
    await ana.page.click('.ctl.play');
    await playing(ben.page, 0.5);
    await seekBar(ana.page, 100);
    await playing(ben.page, 100.2);

    // The final credits begin at 1:48: both see the countdown; the driver has its buttons.
    for (const v of [ana, ben]) {
      await v.page.waitForSelector('.up-next', { timeout: 15_000 });
    }
    const text = await ben.page.locator('.up-next').innerText();
    assert.match(text, /Up next: S01E02 · The Long Street · in (10|9) s/);
    await screenshot(ben.page, 'up-next');
    const started = Date.now();

    // Ten seconds later the next episode starts for both, together.
    for (const v of [ana, ben]) {
      await v.page.waitForFunction(() => document.querySelector('.session-title')?.textContent === 'The Long Street', null, { timeout: 20_000 });
      await playing(v.page, 0.5);
    }
    const waited = (Date.now() - started) / 1000;
    assert.ok(waited > 7 && waited < 20, `the next episode started ${waited.toFixed(1)} s after the countdown showed`);
    await ana.page.waitForTimeout(3000);
    const [a, b] = await Promise.all([videoState(ana.page), videoState(ben.page)]);
    const gap = Math.abs(a.currentTime - b.currentTime);
    assert.ok(!a.paused && !b.paused, 'both play the next episode');
    assert.ok(a.currentTime < 10, `from its start: ${a.currentTime}`);
    assert.ok(gap < 0.15, `in sync on the next episode: gap ${gap.toFixed(3)} s`);
    const snap = await sessionApi(id);
    assert.equal(snap.queue.find((e) => e.id === snap.current).rating_key, '2111');
    assert.equal(snap.queue.length, 2, 'the next episode was queued after the first');
    console.log(`up next: the next episode played ${waited.toFixed(1)} s after the countdown showed; gap ${(gap * 1000).toFixed(0)} ms`);
    assert.deepEqual([...ana.errors, ...ben.errors], []);
  } finally {
    await ana.context.close();
    await ben.context.close();
  }
});

test('a driver cancels Up next and the session finishes at the end, for good', async () => {
  const { id, ana, ben } = await twoViewers(FIRST);
  try {
    await ana.page.click('.ctl.play');
    await playing(ben.page, 0.5);
    await seekBar(ana.page, 104);
    await ben.page.waitForSelector('.up-next', { timeout: 15_000 });
    await ben.page.click('.up-next button:has-text("Cancel")');
    for (const v of [ana, ben]) {
      await v.page.waitForSelector('.up-next', { state: 'detached', timeout: 3000 });
    }
    await ana.page.waitForFunction(() => /Ben cancelled Up next/.test(document.querySelector('.notice')?.textContent ?? ''), null, { timeout: 3000 });

    // The credits play out; at 2:00 the group stops on "Finished", the title unchanged.
    for (const v of [ana, ben]) {
      await v.page.waitForSelector('.finished', { timeout: 25_000 });
    }
    await screenshot(ana.page, 'finished');
    await ana.page.waitForTimeout(3000);
    for (const v of [ana, ben]) {
      const s = await videoState(v.page);
      assert.ok(s.paused, 'stopped at the end');
      assert.ok(s.currentTime > 119, `at the end: ${s.currentTime}`);
      assert.equal(await v.page.locator('.session-title').innerText(), 'First Flame');
    }
    const snap = await sessionApi(id);
    assert.equal(snap.playback.playing, false);
    assert.equal(snap.playback.position, 120);
    assert.equal(snap.ending.finished, true);
    assert.equal(snap.queue.length, 1, 'nothing was queued');

    // "Play again" starts over for both.
    await ana.page.click('.finished button:has-text("Play again")');
    for (const v of [ana, ben]) await playing(v.page, 0.3);
    const after = await sessionApi(id);
    assert.equal(after.ending.finished, false);
    assert.deepEqual([...ana.errors, ...ben.errors], []);
  } finally {
    await ana.context.close();
    await ben.context.close();
  }
});

test('Skip intro jumps both viewers past the intro; a viewer who may not drive sees no button', async () => {
  const { ana, ben } = await twoViewers(FIRST);
  try {
    await ana.page.selectOption('.control-policy select', 'host_only');
    await ben.page.waitForSelector('.control-note');
    await ana.page.click('.ctl.play');
    // The intro starts at 0:03.
    await ana.page.waitForSelector('.skip-marker[data-marker="intro"]', { timeout: 15_000 });
    const benPos = (await videoState(ben.page)).currentTime;
    assert.ok(benPos > 2.5 && benPos < 15, `Ben is in the intro too: ${benPos}`);
    assert.equal(await ben.page.locator('.skip-marker').count(), 0, 'Ben may not drive: no Skip button');
    await screenshot(ana.page, 'skip-intro');

    const clicked = Date.now();
    await ana.page.click('.skip-marker');
    for (const v of [ana, ben]) {
      await v.page.waitForFunction(() => {
        const el = document.querySelector('video');
        return !!el && !el.paused && el.currentTime >= 15 && el.currentTime < 17;
      }, null, { timeout: 3000, polling: 20 });
    }
    const followMs = Date.now() - clicked;
    await ben.page.waitForFunction(() => /Ana skipped the intro/.test(document.querySelector('.notice')?.textContent ?? ''), null, { timeout: 2000 });
    await ana.page.waitForTimeout(1000);
    const [a, b] = await Promise.all([videoState(ana.page), videoState(ben.page)]);
    assert.ok(Math.abs(a.currentTime - b.currentTime) < 0.15, `together after the skip: ${a.currentTime} vs ${b.currentTime}`);
    assert.equal(await ana.page.locator('.skip-marker').count(), 0, 'no Skip button after the intro');
    console.log(`skip intro: both past the intro ${followMs} ms after the click`);
    assert.ok(followMs < 1500, `followed in ${followMs} ms`);
    assert.deepEqual([...ana.errors, ...ben.errors], []);
  } finally {
    await ana.context.close();
    await ben.context.close();
  }
});

test('an item Plex has a resume point for offers Resume from 0:21; resuming starts both there', async () => {
  // The demo's "Harbor Lights" (101) was left at 0:21.5 on the owner's account.
  const { id, ana, ben } = await twoViewers('101');
  try {
    for (const v of [ana, ben]) {
      await v.page.waitForSelector('.resume-offer', { timeout: 15_000 });
    }
    assert.match(await ana.page.locator('.resume-offer').innerText(), /Resume from 0:21\s*Start over/);
    await screenshot(ana.page, 'resume');
    await ben.page.click('.resume-offer button:has-text("Resume from")');
    for (const v of [ana, ben]) {
      await v.page.waitForFunction(() => {
        const el = document.querySelector('video');
        return !!el && !el.paused && el.currentTime > 21.6 && el.currentTime < 25;
      }, null, { timeout: 5000, polling: 20 });
      await v.page.waitForSelector('.resume-offer', { state: 'detached', timeout: 3000 });
    }
    const snap = await sessionApi(id);
    assert.equal(snap.ending.started, true);
    assert.deepEqual([...ana.errors, ...ben.errors], []);
  } finally {
    await ana.context.close();
    await ben.context.close();
  }
});
