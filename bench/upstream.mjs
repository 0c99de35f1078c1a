// Upstream benchmark: how many bytes Marquee pulls from Plex (the home uplink) while 1 and
// while 5 headless Chromium viewers play one item together for 60 s, direct play and HLS, and
// how many Plex transcodes the HLS viewers cost.
//
// Each case runs on a fresh server (empty caches): one session on the ten-minute demo movie,
// N viewers (separate browser contexts), the host presses play; after a 4 s warm-up the
// server's own counters of bytes received from Plex (`marquee_media_bytes_from_plex_total`,
// `marquee_hls_bytes_from_plex_total`) and of transcodes started are read from /metrics
// before the viewers open the page, after the warm-up and after 60 s of play. The total counts
// everything from the first page load on (a browser reads ahead hardest at the start).
//
// Usage: node bench/upstream.mjs [--seconds 60] [--modes direct,hls]   (MARQUEE_BIN picks the
//        server binary)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, createSession, launchBrowser, openViewer, startServer } from '../e2e/harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const SECONDS = Number(opt('seconds', '60'));
const MODES = opt('modes', 'direct,hls').split(',');
const WARMUP_S = 4;
const ADMIN = 'bench-admin-token-0123456789abcdef0123456789';
const LONG_MOVIE = '106';

async function counters(url) {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
  const read = (name) => text.split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.trim().split(/\s+/).pop()), 0);
  return {
    media: read('marquee_media_bytes_from_plex_total'),
    hls: read('marquee_hls_bytes_from_plex_total'),
    transcodes: read('marquee_transcodes_started_total'),
  };
}

async function run(browser, { mode, viewers }) {
  const server = await startServer({ MARQUEE_ADMIN_TOKEN: ADMIN });
  const pages = [];
  try {
    const zero = await counters(server.url);
    const { id, member } = await createSession(server.url, LONG_MOVIE, 'Host');
    const query = mode === 'hls' ? '?quality=2000' : '';
    for (let i = 0; i < viewers; i++) {
      pages.push(await openViewer(browser, server.url, id, i === 0 ? { name: 'Host', member, query } : { name: `Viewer${i}`, query }));
    }
    for (const v of pages) await v.page.waitForSelector('.sync-status[data-state="live"]', { timeout: 30_000 });
    await pages[0].page.click('.ctl.play');
    await pages[0].page.waitForTimeout(WARMUP_S * 1000);
    const start = await counters(server.url);
    await pages[0].page.waitForTimeout(SECONDS * 1000);
    const end = await counters(server.url);
    const playing = await Promise.all(pages.map((v) => v.page.evaluate(() => {
      const el = document.querySelector('video');
      return { t: el.currentTime, paused: el.paused, mode: document.querySelector('.player').dataset.mode };
    })));
    const bytes = (a, b) => (b.media - a.media) + (b.hls - a.hls);
    return {
      mode,
      viewers,
      warmup_bytes: bytes(zero, start),
      bytes: bytes(start, end),
      total_bytes: bytes(zero, end),
      transcodes: end.transcodes - zero.transcodes,
      positions: playing,
    };
  } finally {
    for (const v of pages) await v.context.close();
    await server.stop();
  }
}

const browser = await launchBrowser();
const results = [];
try {
  for (const mode of MODES) {
    for (const viewers of [1, 5]) {
      const r = await run(browser, { mode, viewers });
      results.push(r);
      const mb = (b) => `${(b / 1e6).toFixed(2)} MB`;
      const where = r.positions.map((p) => `${p.t.toFixed(1)}${p.paused ? ' (paused)' : ''}`).join(', ');
      console.log(`${mode}, ${viewers} viewer(s): ${mb(r.total_bytes)} from Plex (${mb(r.warmup_bytes)} in the ${WARMUP_S} s warm-up, ${mb(r.bytes)} in the next ${SECONDS} s); Plex transcodes started: ${r.transcodes}; positions at the end: ${where}`);
    }
  }
  for (const mode of MODES) {
    const one = results.find((r) => r.mode === mode && r.viewers === 1);
    const five = results.find((r) => r.mode === mode && r.viewers === 5);
    const ratio = five.total_bytes / one.total_bytes;
    const ok = ratio <= 1.2 && (mode === 'direct' || five.transcodes === 1);
    console.log(`${mode}: five viewers cost ${ratio.toFixed(2)}× one viewer's bytes${mode === 'hls' ? `, with ${five.transcodes} Plex transcode(s)` : ''} (goal ≤ 1.2×${mode === 'hls' ? ', one transcode' : ''}): ${ok ? 'met' : 'NOT met'}`);
  }
  mkdirSync(join(ROOT, 'target', 'bench'), { recursive: true });
  writeFileSync(join(ROOT, 'target', 'bench', 'upstream.json'), JSON.stringify(results, null, 2));
} finally {
  await browser.close();
}
