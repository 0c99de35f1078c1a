// The container image, built and run with podman as a self-hoster would with docker: the
// Dockerfile at the root around the `marquee` binary (the dev build here, for time; set
// MARQUEE_IMAGE_BIN=target/dist/marquee for the release one), a non-root user, a
// /data volume, a health check that needs no curl, the demo library served, and a quick stop on
// SIGTERM. Needs podman and the local `debian:bookworm-slim` base (scripts/lib.sh:
// ensure_podman, which the test command runs); without them it fails, saying why.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import {
  HOOK, ROOT, closeBrowser, freePort, launchBrowser, pressPlay, tearDown, waitForPlayback, waitHealthy,
} from './harness.mjs';

const run = promisify(execFile);
/** The binary the image wraps, in the checkout: the dev build unless told otherwise. */
const IMAGE_BIN = process.env.MARQUEE_IMAGE_BIN ?? 'target/debug/marquee';
const IMAGE = 'localhost/marquee:e2e-demo';
const RUNTIME_IMAGE = 'localhost/marquee:e2e';
const NAME = `marquee-e2e-${process.pid}`;
let port, url, browser;

async function podman(...args) {
  const { stdout } = await run('podman', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

before(async () => {
  if (!existsSync(join(ROOT, IMAGE_BIN))) {
    throw new Error(`no marquee binary at ${IMAGE_BIN}: build it (cargo build, or scripts/release.sh for target/dist/marquee)`);
  }
  await podman('--version').catch((e) => {
    throw new Error(`podman is needed for the container test (scripts/lib.sh ensure_podman installs it): ${e.message}`);
  });
  const started = Date.now();
  // The docker format keeps the HEALTHCHECK (OCI images have no field for it).
  const build = (...args) => podman('build', '--format', 'docker', '--build-arg', `MARQUEE_BIN=${IMAGE_BIN}`, ...args, '-f', join(ROOT, 'Dockerfile'), ROOT);
  await build('-t', RUNTIME_IMAGE);
  await build('--target', 'demo', '-t', IMAGE);
  console.log(`# images built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  // Host networking: what this sandbox's podman supports; the image's own port is set by env.
  await podman('run', '-d', '--name', NAME, '--network', 'host', '-e', `MARQUEE_BIND=127.0.0.1:${port}`, IMAGE);
  browser = await launchBrowser();
}, { timeout: 600_000 });

after(() => tearDown(
  () => closeBrowser(browser),
  () => podman('rm', '-f', '-v', '-t', '0', NAME).then(() => {}, () => {}),
), HOOK);

/** Waits for /healthz (the first start makes the demo media inside the container). */
async function healthy(ms) {
  await waitHealthy(url, ms, 'the container', () => podman('logs', NAME).catch(() => ''));
}

test('the default image is the binary on Debian slim; the demo one adds ffmpeg', async () => {
  const mib = async (image) => Number(JSON.parse(await podman('image', 'inspect', image))[0].Size) / 1048576;
  const [runtime, demo] = [await mib(RUNTIME_IMAGE), await mib(IMAGE)];
  const binary = Number((await podman('run', '--rm', '--entrypoint', 'stat', RUNTIME_IMAGE, '-c', '%s', '/usr/local/bin/marquee'))) / 1048576;
  console.log(`# image sizes: ${runtime.toFixed(0)} MiB (binary ${binary.toFixed(0)} MiB), demo ${demo.toFixed(0)} MiB`);
  assert.ok(runtime < demo, 'ffmpeg only in the demo image');
  assert.match(await podman('run', '--rm', RUNTIME_IMAGE, '--version'), /^marquee \d+\.\d+\.\d+/);
  assert.equal(await podman('run', '--rm', '--entrypoint', 'sh', RUNTIME_IMAGE, '-c', 'command -v ffmpeg || echo none'), 'none');
});

test('the image runs as a non-root user with a /data volume and serves the demo library', async () => {
  const config = JSON.parse(await podman('image', 'inspect', IMAGE))[0];
  assert.equal(config.Config.User, 'marquee');
  assert.ok('/data' in (config.Config.Volumes ?? {}), 'a /data volume');
  // Podman keeps a docker-format image's health check beside its config.
  const check = config.Healthcheck ?? config.Config.Healthcheck;
  assert.deepEqual(check?.Test, ['CMD', 'marquee', 'health']);

  const started = Date.now();
  await healthy(180_000);
  console.log(`# container answering /healthz ${((Date.now() - started) / 1000).toFixed(1)} s after start`);
  assert.equal(await podman('exec', NAME, 'id', '-u'), '10001');
  // Its own health check passes (podman runs it on demand here; docker on its interval).
  await podman('healthcheck', 'run', NAME);
  // What it wrote went to the volume.
  const files = await podman('exec', NAME, 'ls', '/data');
  assert.match(files, /marquee\.db/);
  assert.match(files, /demo-media/);

  const html = await (await fetch(`${url}/`)).text();
  for (const title of ['Movies', 'TV Shows']) assert.match(html, new RegExp(`>${title}<`));

  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${url}/watch/105`);
  await pressPlay(page);
  const state = await waitForPlayback(page, 2.0);
  assert.ok(state.currentTime > 2, `played to ${state.currentTime} s in the container`);
  await page.close();
});

test('SIGTERM stops the container within 2 s, cleanly', async () => {
  await healthy(180_000);
  const t0 = Date.now();
  // `podman stop` sends the image's STOPSIGNAL and waits (up to 10 s before SIGKILL).
  await podman('stop', '-t', '10', NAME);
  const took = Date.now() - t0;
  console.log(`# stopped ${took} ms after SIGTERM`);
  const state = JSON.parse(await podman('inspect', NAME))[0].State;
  assert.equal(state.ExitCode, 0, 'a clean exit, not a kill');
  assert.ok(took < 2000, `stopped in ${took} ms`);
});
