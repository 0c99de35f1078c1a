// Starts a real Marquee server (demo mode, fresh data dir) and a headless Chromium for the
// browser tests. Fails loudly if either cannot start.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..');
export const ARTIFACTS = join(ROOT, 'target', 'e2e');
mkdirSync(ARTIFACTS, { recursive: true });

async function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
    srv.on('error', fail);
  });
}

/** Start `target/debug/marquee` with extra env; resolves once /healthz answers 200. */
export async function startServer(env = {}) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'marquee-e2e-'));
  const bin = process.env.MARQUEE_BIN ?? join(ROOT, 'target', 'debug', 'marquee');
  const child = spawn(bin, ['serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      MARQUEE_BIND: `127.0.0.1:${port}`,
      MARQUEE_DATA_DIR: dataDir,
      MARQUEE_SITE_ROOT: join(ROOT, 'target', 'site'),
      MARQUEE_DEMO_MEDIA_DIR: process.env.MARQUEE_DEMO_MEDIA_DIR ?? join(ROOT, 'target', 'demo-media'),
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
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
    },
  };
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
