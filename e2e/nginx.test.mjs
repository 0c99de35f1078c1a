// Marquee behind a real nginx (Debian's package) with TLS, configured by the deployment guide's
// own file (docs/deploy/nginx.conf, with this test's ports and a throwaway certificate): pages
// and HSTS through the proxy, a watch session's WebSocket through it in Chromium, and the rate
// limits keyed on each client's own address (nginx's X-Forwarded-For, trusted), not on the
// proxy's.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ROOT, createSession, launchBrowser, startServer, HOOK, closeBrowser, stopProcess, tearDown, STOP_TIMEOUT_MS,
} from './harness.mjs';

const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef-xyz';
const NGINX = process.env.NGINX ?? '/usr/sbin/nginx';
let server, nginx, browser, base;

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
    srv.on('error', fail);
  });
}

/** The guide's site file, pointed at this test's Marquee, port and certificate. */
function siteConfig(marqueePort, httpsPort, dir) {
  const guide = readFileSync(join(ROOT, 'docs', 'deploy', 'nginx.conf'), 'utf8');
  const site = guide
    .replace('server 127.0.0.1:3000;', `server 127.0.0.1:${marqueePort};`)
    .replace(/server \{\n\s+listen 80;[\s\S]*?\n\}\n/, '') // no port 80 here
    .replace('listen 443 ssl;', `listen 127.0.0.1:${httpsPort} ssl;`)
    .replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${dir}/cert.pem;`)
    .replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${dir}/key.pem;`);
  assert.ok(site.includes(`127.0.0.1:${marqueePort}`) && site.includes(`${dir}/key.pem`), 'the guide\'s file was found and adapted');
  return `
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
daemon off;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${site}
}
`;
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'marquee-nginx-'));
  const httpsPort = await freePort();
  base = `https://127.0.0.1:${httpsPort}`;
  server = await startServer({
    MARQUEE_ADMIN_TOKEN: ADMIN_TOKEN,
    MARQUEE_PUBLIC_URL: base,
    MARQUEE_TRUSTED_PROXIES: '127.0.0.1',
    MARQUEE_HSTS: 'true',
    // A small budget, so one client runs out quickly.
    MARQUEE_API_RATE_PER_MINUTE: '30',
    MARQUEE_API_RATE_BURST: '6',
  });
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, siteConfig(new URL(server.url).port, httpsPort, dir));
  execFileSync(NGINX, ['-t', '-p', dir, '-c', conf], { stdio: 'pipe' });
  let log = '';
  nginx = spawn(NGINX, ['-p', dir, '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  nginx.stderr.on('data', (d) => { log += d; });
  nginx.log = () => log + (() => { try { return readFileSync(join(dir, 'error.log'), 'utf8'); } catch { return ''; } })();
  for (let i = 0; i < 100; i++) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited:\n${nginx.log()}`);
    if (curl(['-o', '/dev/null', '-w', '%{http_code}', `${base}/healthz`]) === '200') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await launchBrowser();
}, HOOK);

after(() => tearDown(
  () => closeBrowser(browser),
  () => nginx && stopProcess(nginx, 'nginx', STOP_TIMEOUT_MS, () => nginx.log()),
  () => server?.stop(),
), HOOK);

/** curl through the proxy (its certificate is this test's own); stdout. */
function curl(args) {
  try {
    return execFileSync('curl', ['-sk', '--max-time', '10', ...args], { encoding: 'utf8' });
  } catch (e) {
    return e.stdout ?? '';
  }
}

test('through nginx: pages over TLS with HSTS from Marquee', () => {
  const head = curl(['-D', '-', '-o', '/dev/null', `${base}/`]);
  assert.match(head, /^HTTP\/1\.1 200/m, head);
  assert.match(head, /^strict-transport-security: max-age=\d+/im, head);
  assert.match(head, /^content-security-policy: /im, head);
  assert.match(curl([`${base}/library/1`]), /Harbor Lights/);
});

test('through nginx: a watch session\'s WebSocket connects and syncs in Chromium', async () => {
  const created = await createSession(server.url, '101', 'Ana', { adminToken: ADMIN_TOKEN });
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 720 } });
  await context.addInitScript(([s, m, k]) => {
    localStorage.setItem('marquee.name', 'Ana');
    localStorage.setItem(`marquee.member.${s}`, m);
    localStorage.setItem(`marquee.member_key.${s}`, k);
  }, [created.id, created.member, created.member_key]);
  const page = await context.newPage();
  await page.goto(`${base}/session/${created.id}`);
  await page.waitForSelector('.sync-status[data-state="live"]', { timeout: 20_000 });
  await page.waitForSelector('.members li[data-member="Ana"]');
  // A command goes out and comes back over the proxied socket.
  await page.locator('.controls button.play').click();
  await page.waitForFunction(() => !document.querySelector('video').paused, null, { timeout: 15_000 });
  await context.close();
});

// Last: it spends 127.0.0.1's budget, which the other tests' direct calls share.
test('through nginx: each client has its own rate limit, by the address nginx saw', () => {
  const status = (source) => curl(['--interface', source, '-o', '/dev/null', '-w', '%{http_code}', `${base}/api/me`]);
  const first = [];
  for (let i = 0; i < 10; i++) first.push(status('127.0.0.1'));
  assert.equal(first[0], '401', `not signed in: ${first}`);
  assert.ok(first.includes('429'), `127.0.0.1 ran out of its budget: ${first}`);
  // Another client behind the same proxy still has its own.
  assert.equal(status('127.0.0.2'), '401');
});
