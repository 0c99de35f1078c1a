// Pages come to life when several people open one session page at the same moment over slow
// links: four browsers (three through delaying TCP proxies, 10–100 ms each way, one on loopback)
// load the page together, round after round. Every load must get a Content-Security-Policy
// whose nonce is the one its inline scripts carry, hydrate, and join the session; a page whose
// bootstrap script was blocked sits at "Not joined yet" with a dead player.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  HOOK, closeBrowser, createSession, launchBrowser, startDelayProxy, startServer, tearDown,
} from './harness.mjs';

const ROUNDS = 13;
const LINKS = [
  { latencyMs: 10, jitterMs: 5 },
  { latencyMs: 45, jitterMs: 20 },
  { latencyMs: 100, jitterMs: 30 },
];

let browser, server;
const proxies = [];

before(async () => {
  server = await startServer();
  for (const link of LINKS) proxies.push(await startDelayProxy(server.url, link));
  browser = await launchBrowser();
}, HOOK);

after(() => tearDown(
  () => closeBrowser(browser),
  ...proxies.map((p) => () => p.stop()),
  () => server?.stop(),
), HOOK);

/** One person opening the session page at `base`; resolves with what that load got. */
async function load(base, sessionId, name) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 640 } });
  await context.addInitScript((n) => localStorage.setItem('marquee.name', n), name);
  const problems = [];
  const open = async () => {
    const p = await context.newPage();
    p.on('pageerror', (e) => problems.push(String(e)));
    p.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    return p;
  };
  let page = await open();
  try {
    // A keep-alive connection that the server closed while a request was on its way answers
    // nothing; a browser would load the page again, and so does this one (once).
    let response;
    for (let attempt = 0; ; attempt += 1) {
      try {
        response = await page.goto(`${base}/session/${sessionId}`, { timeout: 30_000 });
        break;
      } catch (e) {
        if (attempt > 0 || !/ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_CONNECTION_CLOSED|chrome-error:/.test(String(e))) throw e;
        // The failed load's error page commits after goto rejects and would interrupt a second
        // goto on the same page, so the reload happens in a new tab.
        await page.close();
        problems.length = 0;
        page = await open();
      }
    }
    const csp = response.headers()['content-security-policy'] ?? '';
    const body = await response.text();
    const headerNonce = csp.match(/'nonce-([^']+)'/)?.[1] ?? null;
    const bodyNonces = [...new Set([...body.matchAll(/<script[^>]*\snonce="([^"]+)"/g)].map((m) => m[1]))];
    let joined = true;
    try {
      await page.waitForSelector('.sync-status[data-state="live"]', { timeout: 15_000 });
    } catch {
      joined = false;
    }
    return { name, status: response.status(), headerNonce, bodyNonces, joined, problems: problems.map((p) => p.slice(0, 200)) };
  } finally {
    await context.close();
  }
}

test(`${ROUNDS * (LINKS.length + 1)} concurrent page loads over delayed links all hydrate`, async () => {
  const { id } = await createSession(server.url, '105', 'Host');
  const bases = [server.url, ...proxies.map((p) => p.url)];
  const results = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const batch = await Promise.all(bases.map((base, i) => load(base, id, `Viewer ${round}-${i}`)));
    results.push(...batch);
  }
  const bad = results.filter((r) => r.status !== 200 || !r.headerNonce || r.bodyNonces.length !== 1
    || r.bodyNonces[0] !== r.headerNonce || !r.joined || r.problems.length > 0);
  console.log(`${results.length} loads, ${bad.length} failed`);
  assert.deepEqual(bad, [], `every load hydrates with a matching nonce (${bad.length} of ${results.length} did not)`);
});
