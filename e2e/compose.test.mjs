// compose.yaml's `scale` profile brought up with podman-compose (from PyPI): PostgreSQL, Redis,
// two Marquee web servers, one `marquee bot` and nginx in front, each in its own container on
// the compose network. Two viewers, one on each web server, share one session: a pause on one
// reaches the other through PostgreSQL and Redis, and the load balancer serves both servers.
// PostgreSQL, Redis and nginx are local stand-ins for the public images (e2e/images/README.md);
// e2e/compose.ports.yaml publishes each web server's port so a viewer can be put on each.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import {
  HOOK, ROOT, closeBrowser, createSession, freePort, launchBrowser, openViewer, tearDown,
  waitForPlayback, waitHealthy,
} from './harness.mjs';

const run = promisify(execFile);
/** The binary the image wraps, in the checkout: the dev build unless told otherwise. */
const IMAGE_BIN = process.env.MARQUEE_IMAGE_BIN ?? 'target/debug/marquee';
const PROJECT = `marquee-e2e-${process.pid}`;
const secret = () => randomBytes(24).toString('hex');
const ADMIN_TOKEN = secret();
let env, ports, browser;

async function compose(...args) {
  const { stdout } = await run('podman-compose', [
    '-p', PROJECT, '-f', join(ROOT, 'compose.yaml'), '-f', join(ROOT, 'e2e', 'compose.ports.yaml'),
    '--profile', 'scale', ...args,
  ], { env, cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function healthy(url, ms, what) {
  await waitHealthy(url, ms, what, () => compose('logs', '--tail', '40').catch((e) => String(e)));
}

before(async () => {
  if (!existsSync(join(ROOT, IMAGE_BIN))) {
    throw new Error(`no marquee binary at ${IMAGE_BIN}: build it (cargo build, or scripts/release.sh for target/dist/marquee)`);
  }
  await run('podman-compose', ['--version']).catch((e) => {
    throw new Error(`podman-compose is needed (scripts/lib.sh ensure_podman installs it from PyPI): ${e.message}`);
  });
  const started = Date.now();
  for (const name of ['postgres', 'redis', 'nginx']) {
    await run('podman', ['build', '-q', '-t', `localhost/marquee-standin-${name}:latest`, join(ROOT, 'e2e', 'images', name)]);
  }
  // The demo image: no Plex of its own here, so each web server serves the demo library.
  await run('podman', ['build', '--format', 'docker', '-q', '--build-arg', `MARQUEE_BIN=${IMAGE_BIN}`, '--target', 'demo', '-t', 'localhost/marquee:e2e-demo', ROOT]);
  ports = { lb: await freePort(), web1: await freePort(), web2: await freePort() };
  env = {
    ...process.env,
    MARQUEE_IMAGE: 'localhost/marquee:e2e-demo',
    POSTGRES_IMAGE: 'localhost/marquee-standin-postgres:latest',
    REDIS_IMAGE: 'localhost/marquee-standin-redis:latest',
    NGINX_IMAGE: 'localhost/marquee-standin-nginx:latest',
    POSTGRES_PASSWORD: secret(),
    MARQUEE_JWT_SECRET: secret(),
    MARQUEE_ADMIN_TOKEN: ADMIN_TOKEN,
    MARQUEE_PORT: String(ports.lb),
    WEB1_PORT: String(ports.web1),
    WEB2_PORT: String(ports.web2),
  };
  // As a user would: `up -d lb bot` brings up the whole set. Podman 4.3 sometimes fails to order
  // the start of a container whose dependency was just created ("not found in input list"); the
  // same command again finds what is already up and starts the rest.
  await compose('up', '-d', 'lb', 'bot').catch(async (e) => {
    if (!/not found in input list/.test(String(e.stderr ?? e))) throw e;
    console.log('# podman 4.3 lost a dependency while starting; running `up` again');
    await compose('up', '-d', 'lb', 'bot');
  });
  await healthy(`http://127.0.0.1:${ports.web1}`, 240_000, 'web1');
  await healthy(`http://127.0.0.1:${ports.web2}`, 240_000, 'web2');
  await healthy(`http://127.0.0.1:${ports.lb}`, 60_000, 'the load balancer');
  console.log(`# scale profile up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  browser = await launchBrowser();
}, { timeout: 900_000 });

after(() => tearDown(
  () => closeBrowser(browser),
  async () => {
    // The containers with their anonymous /data volumes (podman 4.3's `down` leaves those, and
    // will not remove a container others depend on before them), then `down` for the rest.
    const { stdout } = await run('podman', ['ps', '-aq', '--filter', `label=io.podman.compose.project=${PROJECT}`]);
    const all = stdout.trim().split('\n').filter(Boolean);
    if (all.length) await run('podman', ['rm', '-f', '-v', '-t', '5', '--depend', ...all]);
    await compose('down', '-v');
  },
), { timeout: 120_000 });

/** The project's containers (all, or only the running ones) by compose service name. */
async function containers(all) {
  const { stdout } = await run('podman', [
    'ps', ...(all ? ['-a'] : []), '--filter', `label=io.podman.compose.project=${PROJECT}`,
    '--format', '{{.Names}} {{index .Labels "com.docker.compose.service"}}',
  ]);
  return new Map(stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' ').reverse()));
}

test('the scale profile runs every part in its own container, the single one left off', async () => {
  const running = await containers(false);
  for (const part of ['postgres', 'redis', 'web1', 'web2', 'lb']) {
    assert.ok(running.has(part), `${part} runs: ${[...running.keys()]}`);
  }
  assert.ok(!(await containers(true)).has('marquee'), 'the single-server service stays off');
  // The bot was started beside them; with no DISCORD_TOKEN in this test it says what it needs.
  const bot = (await containers(true)).get('bot');
  assert.ok(bot, 'a bot container');
  const { stdout, stderr } = await run('podman', ['logs', bot]);
  assert.match(stdout + stderr, /`marquee bot` needs DISCORD_TOKEN/);
  // The load balancer answers with pages from the web servers.
  const html = await (await fetch(`http://127.0.0.1:${ports.lb}/`)).text();
  assert.match(html, />Movies</);
});

test('one session across the two web servers: a viewer on each, in step', async () => {
  const web1 = `http://127.0.0.1:${ports.web1}`;
  const web2 = `http://127.0.0.1:${ports.web2}`;
  const created = await createSession(web1, '105', 'Ana', { adminToken: ADMIN_TOKEN });
  // The session made on web1 is there on web2 and through the load balancer.
  for (const base of [web2, `http://127.0.0.1:${ports.lb}`]) {
    assert.equal((await fetch(`${base}/api/sessions/${created.id}`)).status, 200, base);
  }
  const ana = await openViewer(browser, web1, created.id, { name: 'Ana', member: created.member, memberKey: created.member_key });
  const ben = await openViewer(browser, web2, created.id, { name: 'Ben' });
  for (const v of [ana, ben]) {
    await v.page.waitForFunction(() => {
      const t = document.querySelector('.members')?.textContent ?? '';
      return t.includes('Ana') && t.includes('Ben');
    }, null, { timeout: 60_000 });
  }
  // Ana (the host, on web1) plays; Ben, on web2, follows.
  await ana.page.waitForFunction(() => document.querySelector('.controls button.play'));
  for (let i = 0; i < 20; i++) {
    // Until hydration has attached the handler a click does nothing; press again only then.
    if (!(await ana.page.evaluate(() => document.querySelector('video').paused))) break;
    await ana.page.locator('.controls button.play').click();
    await ana.page.waitForFunction(() => !document.querySelector('video').paused, null, { timeout: 1500 })
      .catch(() => {});
  }
  await waitForPlayback(ben.page, 1.0, 30_000);
  // And a pause on web1 stops web2's viewer too.
  await ana.page.locator('.controls button.play').click();
  await ben.page.waitForFunction(() => document.querySelector('video').paused, null, { timeout: 10_000 });
  const [a, b] = await Promise.all([ana, ben].map((v) => v.page.evaluate(() => document.querySelector('video').currentTime)));
  console.log(`# paused: Ana at ${a.toFixed(2)} s on web1, Ben at ${b.toFixed(2)} s on web2`);
  assert.ok(Math.abs(a - b) < 1, `Ana ${a} s, Ben ${b} s`);
  await ana.context.close();
  await ben.context.close();
});
