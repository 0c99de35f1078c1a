// Time-to-first-frame benchmark: how long a viewer waits for a picture after pressing play,
// and after a group seek, with direct play and with a Plex transcode (HLS), p50/p95 over 20.
//
// - Play: 20 times, a fresh session page for the ten-minute demo movie opens in a new browser
//   context; once it is live, the viewer presses play. The time runs from the click to the
//   first video frame the page presents (`requestVideoFrameCallback`). The viewer then leaves
//   the page (its player says so), so each HLS start is a new Plex transcode; the count of
//   transcodes started is printed to show it.
// - Group seek: in one playing session, 20 seeks through the seek bar to spread-out positions
//   (10 %–90 % of the item, in shuffled order, so many land past what a transcode has made).
//   The time runs from the seek to the first presented frame within 1 s of the target.
//
// Usage: node bench/first-frame.mjs [--runs 20] [--modes direct,hls]   (MARQUEE_BIN: the binary)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, createSession, launchBrowser, openViewer, startServer } from '../e2e/harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(opt('runs', '20'));
const MODES = opt('modes', 'direct,hls').split(',');
const LONG_MOVIE = '106';
const LENGTH_S = 600;
const ADMIN = 'bench-admin-token-0123456789abcdef0123456789';

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const stats = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p95: pct(s, 95), max: s[s.length - 1] };
};

/** Arms a first-frame timer in the page: the next presented frame (near `want`, if set). */
async function arm(page, want) {
  await page.evaluate((target) => {
    const v = document.querySelector('video');
    window.__ff = null;
    window.__t0 = null;
    const cb = (_now, meta) => {
      const near = target === null || Math.abs(meta.mediaTime - target) < 1.0;
      if (window.__t0 !== null && near) window.__ff = performance.now() - window.__t0;
      else v.requestVideoFrameCallback(cb);
    };
    v.requestVideoFrameCallback(cb);
  }, want);
}

async function waitFrame(page) {
  await page.waitForFunction(() => window.__ff !== null, null, { timeout: 30_000, polling: 10 });
  return page.evaluate(() => window.__ff);
}

async function starts(browser, url, query) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const { id, member } = await createSession(url, LONG_MOVIE, 'Ana');
    const v = await openViewer(browser, url, id, { name: 'Ana', member, query });
    await v.page.waitForSelector('.sync-status[data-state="live"]', { timeout: 30_000 });
    await v.page.waitForFunction(() => document.querySelector('.controls button.play'));
    await arm(v.page, null);
    await v.page.evaluate(() => {
      window.__t0 = performance.now();
      document.querySelector('.ctl.play').click();
    });
    times.push(await waitFrame(v.page));
    // Leave as a viewer does (the page hides, its player says so), so the next HLS start is a
    // new Plex transcode, not a join of this one.
    await v.page.goto('about:blank');
    await v.page.waitForTimeout(300);
    await v.context.close();
  }
  return times;
}

async function seeks(browser, url, query) {
  const { id, member } = await createSession(url, LONG_MOVIE, 'Ana');
  const v = await openViewer(browser, url, id, { name: 'Ana', member, query });
  await v.page.waitForSelector('.sync-status[data-state="live"]', { timeout: 30_000 });
  await v.page.click('.ctl.play');
  await v.page.waitForFunction(() => { const el = document.querySelector('video'); return !el.paused && el.currentTime > 1; });
  // Positions 10 %…90 % in a fixed shuffled order (the same for both modes).
  const positions = Array.from({ length: RUNS }, (_, i) => Math.round(LENGTH_S * (0.1 + (0.8 * ((i * 7) % RUNS)) / RUNS)));
  const times = [];
  for (const to of positions) {
    await v.page.waitForTimeout(1500);
    await arm(v.page, to);
    await v.page.evaluate((target) => {
      const input = document.querySelector('.seek-input');
      window.__t0 = performance.now();
      input.value = String(target);
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }, to);
    times.push(await waitFrame(v.page));
  }
  await v.context.close();
  return times;
}

const server = await startServer({ MARQUEE_ADMIN_TOKEN: ADMIN });
const browser = await launchBrowser();
const out = {};
try {
  for (const mode of MODES) {
    const query = mode === 'hls' ? '?quality=2000' : '';
    const play = stats(await starts(browser, server.url, query));
    const seek = stats(await seeks(browser, server.url, query));
    out[mode] = { play, seek };
    const f = (s) => `p50 ${s.p50.toFixed(0)} ms, p95 ${s.p95.toFixed(0)} ms, max ${s.max.toFixed(0)} ms (n=${s.n})`;
    console.log(`${mode}: first frame after play: ${f(play)}; after a group seek: ${f(seek)}`);
  }
  const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
  const count = (name) => metrics.split('\n').filter((l) => l.startsWith(name)).map((l) => Number(l.split(/\s+/).pop()))[0] ?? 0;
  out.transcodes_started = count('marquee_transcodes_started_total');
  out.retargets = count('marquee_transcode_retargets_total');
  console.log(`Plex transcode sessions started: ${out.transcodes_started} (of them re-targets for seeks: ${out.retargets})`);
  mkdirSync(join(ROOT, 'target', 'bench'), { recursive: true });
  writeFileSync(join(ROOT, 'target', 'bench', 'first-frame.json'), JSON.stringify(out, null, 2));
} finally {
  await browser.close();
  await server.stop();
}
