// Starts a real Marquee server (demo mode, fresh data dir) and a headless Chromium for the
// browser tests. Fails loudly if either cannot start.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, mkdirSync } from 'node:fs';
import { connect as connectTcp, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..');
export const ARTIFACTS = join(ROOT, 'target', 'e2e');
mkdirSync(ARTIFACTS, { recursive: true });

/** The README's screenshots, retaken on every run so they always show the current pages. */
const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');

/**
 * Saves a screenshot of `page` as `target/e2e/<name>.png` with the other artifacts, and copies
 * it to `docs/screenshots/<name>.png`, where the README shows it.
 */
export async function screenshot(page, name) {
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  mkdirSync(SCREENSHOTS, { recursive: true });
  copyFileSync(file, join(SCREENSHOTS, `${name}.png`));
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
    srv.on('error', fail);
  });
}

/**
 * Start `target/debug/marquee` with extra env; resolves once /healthz answers 200. `bare` runs
 * `bin` in `cwd` as a newcomer would: no checkout paths, no MARQUEE_* settings but `env`'s.
 */
export async function startServer(env = {}, { bin, cwd, bare = false } = {}) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'marquee-e2e-'));
  bin ??= process.env.MARQUEE_BIN ?? join(ROOT, 'target', 'debug', 'marquee');
  const base = bare
    ? { PATH: process.env.PATH, HOME: process.env.HOME ?? '/root' }
    : {
      ...process.env,
      MARQUEE_DATA_DIR: dataDir,
      MARQUEE_SITE_ROOT: join(ROOT, 'target', 'site'),
      MARQUEE_DEMO_MEDIA_DIR: process.env.MARQUEE_DEMO_MEDIA_DIR ?? join(ROOT, 'target', 'demo-media'),
    };
  const child = spawn(bin, ['serve'], {
    cwd: cwd ?? ROOT,
    env: {
      ...base,
      MARQUEE_BIND: `127.0.0.1:${port}`,
      RUST_LOG: 'warn,server=info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`marquee exited (${child.exitCode}):\n${log}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (Date.now() >= deadline) throw new Error(`marquee did not start within 180 s:\n${log}`);
  return {
    url,
    log: () => log,
    /** SIGTERM, as a container runtime stops it; fails (after SIGKILL) if it does not end. */
    stop: () => stopProcess(child, 'marquee', STOP_TIMEOUT_MS, () => log),
  };
}

/** How long a stopped server may take: its grace period (5 s by default) and a little. */
export const STOP_TIMEOUT_MS = 10_000;
/** Bounds for a test file's set-up and tear-down hooks (`before(fn, HOOK)`, `after(fn, HOOK)`). */
export const HOOK = { timeout: 240_000 };

/**
 * Resolves with `promise`, or rejects after `ms` with a message naming `what`: a hang fails a
 * test with a reason instead of stalling the whole run.
 */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Sends SIGTERM to `child` and waits for it to exit; after `ms` it is killed with SIGKILL and
 * the returned promise rejects, saying so (with the end of its log).
 */
export async function stopProcess(child, name, ms, log = () => '') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  try {
    await withTimeout(exited, ms, `${name} after SIGTERM`);
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${name} did not stop within ${ms} ms of SIGTERM and was killed:\n${log().slice(-4000)}`);
  }
}

/** Closes a browser, bounded in time (a wedged Chromium is killed). */
export async function closeBrowser(browser) {
  if (!browser) return;
  try {
    await withTimeout(browser.close(), 15_000, 'closing Chromium');
  } catch (e) {
    browser.process?.()?.kill('SIGKILL');
    throw e;
  }
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required', '--mute-audio',
    ],
  });
}

/**
 * A page of `browser` that collects the page's errors and console errors into `errors`, then
 * goes Home → Movies → the movie titled `title` → Play at `baseUrl`; returns the watch page.
 */
export async function openMovie(browser, baseUrl, title) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${baseUrl}/`);
  await page.getByRole('link', { name: /Movies/ }).first().click();
  await page.waitForURL(/\/library\//);
  await page.locator('.card', { hasText: title }).first().click();
  await page.waitForURL(/\/item\//);
  await page.locator('a.play-link').click();
  await page.waitForURL(/\/watch\//);
  await page.waitForSelector('video');
  return { page, errors };
}

/**
 * Presses the player's play button until its <video> plays: a click before hydration has
 * attached the handler does nothing, so it is pressed again (only while still paused).
 */
export async function pressPlay(page) {
  await page.waitForFunction(() => document.querySelector('.controls button.play'));
  for (let i = 0; i < 20; i++) {
    await page.locator('.controls button.play').click();
    const playing = await page
      .waitForFunction(() => !document.querySelector('video').paused, null, { timeout: 1500 })
      .then(() => true, () => false);
    if (playing) return;
  }
}

/** Polls `${url}/healthz` until it answers 200; after `ms`, throws with `why()` appended. */
export async function waitHealthy(url, ms, what, why = async () => '') {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} did not answer /healthz within ${ms} ms:\n${await why()}`);
}

/** Wait until the page's <video> has played past `seconds`; returns the final state. */
export async function waitForPlayback(page, seconds, timeoutMs = 30_000) {
  await page.waitForFunction(
    (s) => {
      const v = document.querySelector('video');
      return v && v.currentTime > s && !v.paused;
    },
    seconds,
    { timeout: timeoutMs },
  );
  return page.evaluate(() => {
    const v = document.querySelector('video');
    return { currentTime: v.currentTime, paused: v.paused, src: v.currentSrc, readyState: v.readyState };
  });
}

/**
 * Creates a watch session over the HTTP API; returns `{ id, member, member_key, url }`. With guests off the
 * API wants the server's `adminToken`.
 */
export async function createSession(baseUrl, ratingKey, name, { adminToken } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (adminToken) headers.authorization = `Bearer ${adminToken}`;
  const r = await fetch(`${baseUrl}/api/sessions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ rating_key: ratingKey, name }),
  });
  if (r.status !== 201) throw new Error(`creating a session: ${r.status} ${await r.text()}`);
  return r.json();
}

/**
 * Opens a session page in a fresh browser context (its own storage, like another person's
 * browser) with the display name remembered, so it joins at once. `member` with `memberKey`
 * rejoins as that member (the host's id and key from createSession). `query` is added to the
 * page's URL (`?quality=2000` asks for a transcoded stream).
 */
export async function openViewer(browser, baseUrl, sessionId, { name, member, memberKey, blockAutoplay = false, clockSkewMs = 0, query = '' } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  if (clockSkewMs) {
    // A machine whose clock is wrong: every local clock the page can read is shifted.
    await context.addInitScript((skew) => {
      const origin = performance.timeOrigin;
      Object.defineProperty(Performance.prototype, 'timeOrigin', { get: () => origin + skew });
      const now = Date.now;
      Date.now = () => now() + skew;
    }, clockSkewMs);
  }
  if (blockAutoplay) await blockAutoplayIn(context);
  await context.addInitScript(([n, s, m, k]) => {
    if (n) localStorage.setItem('marquee.name', n);
    if (m) localStorage.setItem(`marquee.member.${s}`, m);
    if (k) localStorage.setItem(`marquee.member_key.${s}`, k);
  }, [name, sessionId, member, memberKey]);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${baseUrl}/session/${sessionId}${query}`);
  return { context, page, errors };
}

/**
 * Makes `context` refuse unmuted play() until the user really interacts, in every frame (init
 * scripts run in iframes too).
 */
export async function blockAutoplayIn(context) {
  // Headless Chromium does not enforce the autoplay policy, so emulate it exactly as browsers
  // apply it to unmuted media: play() rejects with NotAllowedError until the user interacts.
  // (navigator.userActivation is already set by a CDP-driven navigation, so track real input.)
  await context.addInitScript(() => {
    let activated = false;
    for (const type of ['pointerdown', 'keydown']) {
      addEventListener(type, (e) => { if (e.isTrusted) activated = true; }, true);
    }
    const play = HTMLMediaElement.prototype.play;
    HTMLMediaElement.prototype.play = function () {
      if (!this.muted && !activated) {
        return Promise.reject(new DOMException('play() failed because the user did not interact with the document first.', 'NotAllowedError'));
      }
      return play.call(this);
    };
  });
}

/** Drags the page's seek bar to `t` seconds and lets go (a group seek in a session). */
export async function seekBar(page, t) {
  await page.evaluate((to) => {
    const input = document.querySelector('.seek-input');
    input.value = String(to);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }, t);
}

/**
 * The pitch of what the page's <video> plays, in Hz: the loudest frequency of its audio, read
 * with Web Audio on the element (the browser's output is muted; the graph still runs). The
 * demo's two-language movie plays a 440 Hz tone in English and 990 Hz in French.
 */
export async function audioPitch(page) {
  return page.evaluate(async () => {
    const v = document.querySelector('video');
    if (window.__marqueePitch?.video !== v) {
      const ctx = new AudioContext();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 16384;
      ctx.createMediaElementSource(v).connect(analyser);
      analyser.connect(ctx.destination);
      await ctx.resume();
      window.__marqueePitch = { ctx, analyser, video: v };
    }
    const { ctx, analyser } = window.__marqueePitch;
    await new Promise((r) => setTimeout(r, 700));
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let best = 0;
    for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
    return (best * ctx.sampleRate) / analyser.fftSize;
  });
}

/** The page's <video> state. */
export async function videoState(page) {
  return page.evaluate(() => {
    const v = document.querySelector('video');
    return { currentTime: v.currentTime, paused: v.paused, rate: v.playbackRate, readyState: v.readyState };
  });
}

/** A new, empty PostgreSQL database (psql against the test server); returns its URL. */
export function freshPostgresDatabase() {
  const admin = process.env.MARQUEE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `marquee_e2e_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  try {
    execFileSync('psql', [admin, '-qc', `CREATE DATABASE ${name}`], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`PostgreSQL is required for this test (${admin}): ${e.stderr ?? e}`);
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database made by freshPostgresDatabase (after its servers stopped). */
export function dropPostgresDatabase(url) {
  const admin = process.env.MARQUEE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = new URL(url).pathname.slice(1);
  execFileSync('psql', [admin, '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: 'pipe' });
}

/**
 * Start `target/debug/marquee-fake-discord` (the project's fake Discord) on a free port.
 * `signInAs(user | null)` chooses who its OAuth2 consent screen signs in.
 */
export async function startFakeDiscord() {
  const bin = process.env.MARQUEE_FAKE_DISCORD_BIN ?? join(ROOT, 'target', 'debug', 'marquee-fake-discord');
  const child = spawn(bin, [], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise((ok, fail) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) ok(m[1]);
    });
    child.on('exit', (code) => fail(new Error(`fake Discord exited (${code}): ${out}`)));
    setTimeout(() => fail(new Error('fake Discord did not start within 10 s')), 10_000);
  });
  return {
    url,
    applicationId: '1100000000000000001',
    clientSecret: 'fake-discord-client-secret',
    botToken: 'fake-discord-bot-token',
    async signInAs(user) {
      const r = await fetch(`${url}/_fake/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(user),
      });
      if (!r.ok) throw new Error(`fake Discord sign-in control: ${r.status}`);
    },
    stop: () => stopProcess(child, 'the fake Discord', STOP_TIMEOUT_MS, () => out),
  };
}

/**
 * Runs every tear-down step even when one fails or hangs (each is bounded by its own timeout),
 * then fails with the first error: a server that will not stop is reported, and the others are
 * still stopped.
 */
export async function tearDown(...steps) {
  const results = await Promise.allSettled(steps.map((step) => Promise.resolve().then(step)));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * A TCP proxy to `targetUrl` that delays every chunk by `latencyMs` ± `jitterMs` in each
 * direction (order kept), as a link to a viewer far away does; `upMs` / `downMs` (viewer →
 * server / server → viewer) make the path uneven. Either side closing closes the other.
 * Resolves with `{ url, stop() }`.
 */
export async function startDelayProxy(targetUrl, { latencyMs = 0, jitterMs = 0, upMs = latencyMs, downMs = latencyMs }) {
  const target = new URL(targetUrl);
  const sockets = new Set();
  // Forwards `from` to `to` with the delay, strictly in order (one queue, one timer at a time);
  // an end is delayed like data, so nothing in flight is lost.
  const forward = (from, to, delayMs) => {
    const queue = [];
    let timer = null;
    let last = 0;
    const drain = () => {
      timer = null;
      while (queue.length && queue[0].due <= Date.now()) {
        const { chunk } = queue.shift();
        if (to.destroyed) return;
        if (chunk === null) to.end(); else to.write(chunk);
      }
      if (queue.length) timer = setTimeout(drain, queue[0].due - Date.now());
    };
    const push = (chunk) => {
      last = Math.max(last, Date.now() + delayMs + (Math.random() * 2 - 1) * jitterMs);
      queue.push({ chunk, due: last });
      if (!timer) timer = setTimeout(drain, Math.max(0, queue[0].due - Date.now()));
    };
    from.on('data', push);
    from.on('end', () => push(null));
  };
  // Half-open ends are forwarded as they are, as TCP does.
  const server = createServer({ allowHalfOpen: true }, (down) => {
    const up = connectTcp({ port: Number(target.port), host: target.hostname, allowHalfOpen: true });
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    forward(down, up, upMs);
    forward(up, down, downMs);
    const close = () => { up.destroy(); down.destroy(); };
    for (const s of [down, up]) { s.on('error', close); s.on('close', (hadError) => { if (hadError) close(); }); }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stop() {
      const closed = new Promise((ok) => server.close(ok));
      for (const s of sockets) s.destroy();
      return closed;
    },
  };
}
