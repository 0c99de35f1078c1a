// Issue 15: each viewer's own audio track and subtitles in one synced session. The demo's
// two-language movie has an English track (a 440 Hz tone) and a French one (990 Hz), an
// embedded English subtitle, and French SRT, styled Spanish ASS and forced English sidecars;
// another movie's only subtitle is a picture (PGS) stream. Cue i of every track shows from
// 4i + 0.5 s to 4i + 3.5 s.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  audioPitch, createSession, launchBrowser, openViewer, screenshot, seekBar, startServer, videoState, HOOK,
  closeBrowser, tearDown,
} from './harness.mjs';

let browser;
let server;

before(async () => {
  browser = await launchBrowser();
  // Plex requests logged (without the token), so the test can read what Plex was asked.
  server = await startServer({ RUST_LOG: 'warn,server=info,marquee_plex=debug' });
}, HOOK);

after(() => tearDown(() => closeBrowser(browser), () => server?.stop()), HOOK);

const MULTI = '107';
const IMAGE_SUBS = '108';

/** Picks the option of `select` whose label matches `re`. */
async function choose(page, select, re) {
  const value = await page.$eval(select, (el, source) => {
    const pattern = new RegExp(source);
    const option = [...el.options].find((o) => pattern.test(o.textContent));
    return option ? option.value : null;
  }, re.source);
  assert.ok(value !== null, `no option matching ${re} in ${select}`);
  await page.selectOption(select, value);
}

/** The active cue's text of the page's video ('' when none is showing). */
const activeCue = (page) => page.evaluate(() => {
  const v = document.querySelector('video');
  const track = [...v.textTracks].find((t) => t.mode === 'showing');
  const cue = track?.activeCues?.[0];
  return cue ? cue.text : '';
});

/** Waits until the video's shown track has its cues. */
const cuesLoaded = (page) => page.waitForFunction(() => {
  const v = document.querySelector('video');
  const track = [...(v?.textTracks ?? [])].find((t) => t.mode === 'showing');
  return (track?.cues?.length ?? 0) > 0;
}, null, { timeout: 20_000 });

const near = (hz, want) => Math.abs(hz - want) < want * 0.05;

test('two viewers in one session: each their own audio and subtitles, in sync', async () => {
  const { id, member, member_key: memberKey } = await createSession(server.url, MULTI, 'Ana');
  const ana = await openViewer(browser, server.url, id, { name: 'Ana', member, memberKey });
  const ben = await openViewer(browser, server.url, id, { name: 'Ben' });
  for (const v of [ana, ben]) {
    await v.page.waitForSelector('.sync-status[data-state="live"]', { timeout: 20_000 });
  }
  assert.equal(await ana.page.getAttribute('.player', 'data-mode'), 'direct');

  // Ben takes the French track from the audio menu: his stream changes, nobody else's.
  await choose(ben.page, 'select.audio', /Français/);
  await ben.page.waitForURL(/audio=fra/);
  await ben.page.waitForSelector('.player[data-mode="hls"]', { timeout: 20_000 });
  await ben.page.waitForSelector('.sync-status[data-state="live"]', { timeout: 20_000 });
  assert.equal(await ana.page.getAttribute('.player', 'data-mode'), 'direct');
  assert.ok(!ana.page.url().includes('audio='), ana.page.url());
  // …and English subtitles from the subtitle menu.
  await choose(ben.page, 'select.subtitles', /^English \(MOV_TEXT\)/);
  await cuesLoaded(ben.page);

  await ana.page.click('.ctl.play');
  for (const v of [ana, ben]) {
    await v.page.waitForFunction(() => {
      const el = document.querySelector('video');
      return el && !el.paused && el.currentTime > 3;
    }, null, { timeout: 30_000 });
  }
  const [hzAna, hzBen] = await Promise.all([audioPitch(ana.page), audioPitch(ben.page)]);
  console.log(`Ana hears ${hzAna.toFixed(0)} Hz, Ben ${hzBen.toFixed(0)} Hz`);
  assert.ok(near(hzAna, 440), `Ana plays the English track: ${hzAna} Hz`);
  assert.ok(near(hzBen, 990), `Ben plays the French track: ${hzBen} Hz`);
  await ben.page.waitForTimeout(1500);
  const [a, b] = await Promise.all([videoState(ana.page), videoState(ben.page)]);
  const gap = Math.abs(a.currentTime - b.currentTime);
  console.log(`direct-play English and transcoded French: gap ${(gap * 1000).toFixed(0)} ms`);
  assert.ok(!a.paused && !b.paused && gap < 0.15, JSON.stringify({ a, b }));

  // Mid-film Ben goes back to English: only his stream changes, and his player rejoins the
  // group where it is; his subtitles stay on (remembered).
  const switched = Date.now();
  await choose(ben.page, 'select.audio', /^English/);
  await ben.page.waitForFunction(() => !location.search.includes('audio='), null, { timeout: 10_000 });
  await ben.page.waitForSelector('.player[data-mode="direct"][data-ready]', { timeout: 20_000 });
  let rejoined = null;
  while (Date.now() - switched < 15_000) {
    const [x, y] = await Promise.all([videoState(ana.page), videoState(ben.page)]);
    if (!x.paused && !y.paused && Math.abs(x.currentTime - y.currentTime) < 0.15) { rejoined = { x, y }; break; }
    await ben.page.waitForTimeout(100);
  }
  assert.ok(rejoined, 'Ben back in sync after switching his audio mid-film');
  console.log(`Ben switched to English mid-film: in sync again after ${Date.now() - switched} ms`);
  assert.ok(near(await audioPitch(ben.page), 440), 'Ben now hears English');
  assert.ok(near(await audioPitch(ana.page), 440), 'Ana still hears English');
  await cuesLoaded(ben.page);

  // The group pauses at 10 s: Ben reads cue 3, Ana nothing.
  await ana.page.click('.ctl.play');
  await seekBar(ana.page, 10);
  for (const v of [ana, ben]) {
    await v.page.waitForFunction(() => {
      const el = document.querySelector('video');
      return el.paused && !el.seeking && Math.abs(el.currentTime - 10) < 0.05;
    }, null, { timeout: 10_000 });
  }
  await ben.page.waitForFunction(() => {
    const t = [...document.querySelector('video').textTracks].find((x) => x.mode === 'showing');
    return t?.activeCues?.length > 0;
  }, null, { timeout: 5000 });
  assert.equal(await activeCue(ben.page), 'English line 3');
  assert.equal(await activeCue(ana.page), '');
  assert.equal(await ana.page.evaluate(() => document.querySelector('video').textTracks.length), 0);

  // Ben's subtitles run early for him: +0.5 s in five steps moves every cue by 0.5 s.
  const cue = () => ben.page.evaluate(() => {
    const t = [...document.querySelector('video').textTracks].find((x) => x.mode === 'showing');
    return { start: t.cues[2].startTime, end: t.cues[2].endTime, text: t.cues[2].text };
  });
  const before = await cue();
  assert.deepEqual(before, { start: 8.5, end: 11.5, text: 'English line 3' });
  await ben.page.click('.subtitle-look summary');
  for (let i = 0; i < 5; i++) await ben.page.click('.nudge-later');
  assert.equal(await ben.page.textContent('output.nudge'), '+0.5 s');
  const moved = await cue();
  assert.ok(Math.abs(moved.start - 9.0) < 1e-6 && Math.abs(moved.end - 12.0) < 1e-6, JSON.stringify(moved));
  // At 8.7 s the moved cue has not begun; Ana's view did not change.
  await seekBar(ana.page, 8.7);
  await ben.page.waitForFunction(() => Math.abs(document.querySelector('video').currentTime - 8.7) < 0.05, null, { timeout: 10_000 });
  await ben.page.waitForTimeout(300);
  assert.equal(await activeCue(ben.page), '');
  await seekBar(ana.page, 9.5);
  await ben.page.waitForFunction(() => Math.abs(document.querySelector('video').currentTime - 9.5) < 0.05, null, { timeout: 10_000 });
  await ben.page.waitForTimeout(300);
  assert.equal(await activeCue(ben.page), 'English line 3');
  await screenshot(ben.page, 'tracks-desktop');

  // The same menus on a phone: a third viewer in portrait, French subtitles remembered by
  // language from nowhere (a fresh browser): they pick them, the look panel fits the screen.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await phone.addInitScript(() => localStorage.setItem('marquee.name', 'Cleo'));
  const cleo = await phone.newPage();
  await cleo.goto(`${server.url}/session/${id}`);
  await cleo.waitForSelector('.sync-status[data-state="live"]', { timeout: 20_000 });
  for (const menu of ['select.audio', 'select.subtitles', '.subtitle-look', 'select.quality']) {
    assert.ok(await cleo.isVisible(menu), `${menu} on the phone`);
  }
  await choose(cleo, 'select.subtitles', /^Français \(SRT\)/);
  await cuesLoaded(cleo);
  await cleo.waitForFunction(() => Math.abs(document.querySelector('video').currentTime - 9.5) < 0.05, null, { timeout: 10_000 });
  await cleo.waitForTimeout(300);
  assert.equal(await activeCue(cleo), 'Ligne française 3');
  await cleo.click('.subtitle-look summary');
  await cleo.selectOption('select.subtitle-size', 'large');
  await screenshot(cleo, 'tracks-phone');
  assert.deepEqual([...ana.errors, ...ben.errors], []);
  await phone.close();
  await ana.context.close();
  await ben.context.close();
});

test('SRT and ASS render as cues, choices carry to the next item, and a picture subtitle is burned in', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}/watch/${MULTI}`);
  await page.waitForSelector('.player[data-ready] select.subtitles');

  const at = async (t) => {
    await page.evaluate((to) => { document.querySelector('video').currentTime = to; }, t);
    await page.waitForFunction((to) => {
      const v = document.querySelector('video');
      return !v.seeking && Math.abs(v.currentTime - to) < 0.05;
    }, t, { timeout: 10_000 });
    await page.waitForTimeout(200);
  };
  await choose(page, 'select.subtitles', /^Français \(SRT\)/);
  await cuesLoaded(page);
  await at(10);
  assert.equal(await activeCue(page), 'Ligne française 3');

  await choose(page, 'select.subtitles', /^Español · Styled \(ASS\)/);
  await page.waitForFunction(() => {
    const t = [...document.querySelector('video').textTracks].find((x) => x.mode === 'showing');
    return t?.label.startsWith('Español') && t.cues?.length > 0;
  }, null, { timeout: 20_000 });
  await at(2);
  assert.equal(await activeCue(page), '<b>Línea</b> española 1', 'bold kept, colour dropped');
  await at(10);
  const top = await page.evaluate(() => {
    const t = [...document.querySelector('video').textTracks].find((x) => x.mode === 'showing');
    const c = t.activeCues[0];
    return { text: c.text, line: c.line };
  });
  assert.deepEqual(top, { text: '<b><i>Línea</i></b><i> española 3</i>', line: 0 }, 'the top style is italic, at the top');

  // The choice is remembered by language: the next item with Spanish subtitles would show
  // them; this item, opened again, does.
  await page.goto(`${server.url}/watch/${MULTI}`);
  await cuesLoaded(page);
  assert.ok((await page.$eval('select.subtitles', (s) => s.selectedOptions[0].textContent)).startsWith('Español'));

  // The audio language too: French chosen once, the next page load plays French by itself.
  await choose(page, 'select.audio', /Français/);
  await page.waitForURL(/audio=fra/);
  await page.waitForSelector('.player[data-mode="hls"][data-ready]', { timeout: 20_000 });
  await page.goto(`${server.url}/watch/${MULTI}`);
  await page.waitForURL(/audio=fra/, { timeout: 10_000 });
  await page.waitForSelector('.player[data-mode="hls"][data-ready]', { timeout: 20_000 });
  assert.match(await page.$eval('select.audio', (s) => s.selectedOptions[0].textContent), /^Français/);
  await choose(page, 'select.audio', /^English/);
  await page.waitForSelector('.player[data-mode="direct"][data-ready]', { timeout: 20_000 });

  // The picture subtitle: choosing it asks Plex for that stream burned in.
  await page.goto(`${server.url}/watch/${IMAGE_SUBS}`);
  await page.waitForSelector('.player[data-mode="direct"][data-ready]');
  await choose(page, 'select.subtitles', /PGS/);
  await page.waitForURL(/burn=eng/);
  await page.waitForSelector('.player[data-mode="hls"][data-ready]', { timeout: 20_000 });
  const burnStarted = Date.now();
  await page.click('.ctl.play');
  try {
    await page.waitForFunction(() => {
      const v = document.querySelector('video');
      return !v.paused && v.currentTime > 1.5;
    }, null, { timeout: 45_000 });
  } catch (e) {
    const state = await page.evaluate(() => {
      const v = document.querySelector('video');
      return { t: v.currentTime, paused: v.paused, ready: v.readyState, error: document.querySelector('.player-error')?.textContent };
    });
    throw new Error(`the burned-in stream did not play: ${JSON.stringify(state)}\n${server.log().slice(-3000)}`, { cause: e });
  }
  console.log(`burned-in stream playing ${Date.now() - burnStarted} ms after play`);
  const info = await page.evaluate(() => ({
    label: document.querySelector('select.subtitles').selectedOptions[0].textContent,
    tracks: document.querySelector('video').textTracks.length,
  }));
  assert.match(info.label, /PGS.*burned in/);
  assert.equal(info.tracks, 0, 'nothing drawn by the browser: it is in the picture');
  assert.equal(await page.locator('.subtitle-look').count(), 0, 'no text look to set for burned-in subtitles');
  const start = server.log().split('\n').find((l) => l.includes('start.m3u8') && l.includes('subtitles=burn'));
  assert.ok(start, 'Plex was asked for a burned-in transcode');
  const stream = start.match(/subtitleStreamID=(\d+)/)?.[1];
  assert.equal(stream, String(Number(IMAGE_SUBS) * 100 + 13), start);
  await screenshot(page, 'tracks-burned');
  assert.deepEqual(errors, []);
  await context.close();
});
