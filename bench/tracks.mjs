// Track-switch benchmark: how long a viewer who changes their audio track mid-film is out of
// sync, and what it costs the rest of the group.
//
// One session on the demo's two-language movie (English is the file's default, French needs a
// Plex transcode). Ana plays the original; Ben switches his audio track from the player's menu,
// French and English in turn, while the group plays. For each switch: the time from his choice
// until both play again within 50 ms of each other, how long Ana was paused in that time (the
// buffering rule pauses the group for a viewer who stalls), and whether Ben then hears the track
// he chose (the pitch of what his page plays: English is a 440 Hz tone, French 990 Hz).
//
// Usage: node bench/tracks.mjs [--switches 10]   (MARQUEE_BIN: the binary)
import { audioPitch, createSession, launchBrowser, openViewer, startServer, videoState } from '../e2e/harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const SWITCHES = Number(opt('switches', '10'));
const MULTI = '107';

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const stats = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p95: pct(s, 95), max: s[s.length - 1] };
};

const server = await startServer();
const browser = await launchBrowser();
try {
  const { id, member, member_key: memberKey } = await createSession(server.url, MULTI, 'Ana');
  const ana = await openViewer(browser, server.url, id, { name: 'Ana', member, memberKey });
  const ben = await openViewer(browser, server.url, id, { name: 'Ben' });
  for (const v of [ana, ben]) await v.page.waitForSelector('.sync-status[data-state="live"]', { timeout: 30_000 });
  await ana.page.click('.ctl.play');
  await ben.page.waitForFunction(() => { const v = document.querySelector('video'); return v && !v.paused && v.currentTime > 2; }, null, { timeout: 30_000 });

  const rejoin = [];
  const anaPaused = [];
  let right = 0;
  for (let i = 0; i < SWITCHES; i++) {
    const french = i % 2 === 0;
    const value = await ben.page.$eval('select.audio', (el, fr) => {
      const o = [...el.options].find((x) => (fr ? /Français/ : /^English/).test(x.textContent));
      return o.value;
    }, french);
    const t0 = Date.now();
    let paused = 0;
    let last = t0;
    await ben.page.selectOption('select.audio', value);
    await ben.page.waitForSelector(`.player[data-mode="${french ? 'hls' : 'direct'}"][data-ready]`, { timeout: 30_000 });
    for (;;) {
      const [a, b] = await Promise.all([videoState(ana.page), videoState(ben.page)]);
      const now = Date.now();
      if (a.paused) paused += now - last;
      last = now;
      if (!a.paused && !b.paused && b.readyState >= 3 && Math.abs(a.currentTime - b.currentTime) < 0.05) break;
      if (now - t0 > 30_000) {
        const why = await ben.page.evaluate(() => document.querySelector('.player-error')?.textContent ?? document.querySelector('.sync-label')?.textContent);
        throw new Error(`switch ${i + 1}: not back in sync after 30 s: ${JSON.stringify({ a, b, why })}\n${server.log().slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    rejoin.push(Date.now() - t0);
    anaPaused.push(paused);
    const hz = await audioPitch(ben.page);
    if (Math.abs(hz - (french ? 990 : 440)) < (french ? 50 : 22)) right += 1;
    // Stay a moment, as a viewer would, before the next change.
    await ben.page.waitForTimeout(1500);
  }
  const r = stats(rejoin);
  const p = stats(anaPaused);
  console.log(`track_switches ${SWITCHES} (French: a Plex transcode; English: the original file)`);
  console.log(`back_in_sync_ms p50 ${r.p50} p95 ${r.p95} max ${r.max} (each: ${rejoin.join(', ')})`);
  console.log(`other_viewer_paused_ms p50 ${p.p50} p95 ${p.p95} max ${p.max}`);
  console.log(`heard_the_chosen_track ${right}/${SWITCHES}`);
} finally {
  await browser.close();
  await server.stop();
}
