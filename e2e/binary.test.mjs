// The `marquee` binary alone, as a newcomer downloads it: copied into an empty directory with
// nothing beside it and no checkout to point at, it serves the demo library with its site from
// inside itself (content-hashed names, brotli and gzip made at build time, ETags, a year's
// caching), and movies play in Chromium, hls.js included. The test command runs the dev build
// (a release build would double CI's time); MARQUEE_DIST_BIN=target/dist/marquee runs the one
// scripts/release.sh makes.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  launchBrowser, openMovie, pressPlay, startServer, waitForPlayback, HOOK, ROOT, closeBrowser, tearDown,
} from './harness.mjs';

const BIN = process.env.MARQUEE_DIST_BIN ?? join(ROOT, 'target', 'debug', 'marquee');
let server, browser, dir;

before(async () => {
  if (!existsSync(BIN)) throw new Error(`no marquee binary at ${BIN}: build it (cargo build, or scripts/release.sh)`);
  dir = mkdtempSync(join(tmpdir(), 'marquee-alone-'));
  copyFileSync(BIN, join(dir, 'marquee'));
  chmodSync(join(dir, 'marquee'), 0o755);
  assert.deepEqual(readdirSync(dir), ['marquee']);
  server = await startServer({}, { bin: join(dir, 'marquee'), cwd: dir, bare: true });
  browser = await launchBrowser();
}, HOOK);

after(() => tearDown(() => closeBrowser(browser), () => server?.stop()), HOOK);

/** The page's asset table: plain name → served name. */
function assetNames(html) {
  const m = html.match(/<meta name="marquee-assets" content="([^"]*)"/);
  assert.ok(m, 'the page carries its asset table');
  return JSON.parse(m[1].replaceAll('&quot;', '"').replaceAll('&amp;', '&'));
}

test('the site comes from inside the binary: hashed names, precompressed, cached for good', async () => {
  const html = await (await fetch(`${server.url}/`)).text();
  assert.match(html, />Movies</, 'the demo library');
  const names = assetNames(html);
  for (const plain of ['marquee.js', 'marquee_bg.wasm', 'marquee.css', 'hls.min.js', 'discord-sdk.js']) {
    const dot = plain.lastIndexOf('.');
    const want = new RegExp(`^${plain.slice(0, dot).replace('.', '\\.')}\\.[0-9a-f]{16}\\${plain.slice(dot)}$`);
    assert.match(names[plain] ?? '', want, `${plain} has a content-hashed name`);
  }
  assert.ok(html.includes(`/pkg/${names['marquee.js']}`), 'the bootstrap loads the hashed bundle');
  assert.ok(html.includes(`/pkg/${names['marquee.css']}`), 'and the hashed stylesheet');

  const wasmUrl = `${server.url}/pkg/${names['marquee_bg.wasm']}`;
  for (const [coding, header] of [['br', 'br'], ['gzip', 'gzip']]) {
    const r = await fetch(wasmUrl, { headers: { 'accept-encoding': coding } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-encoding'), header);
    assert.equal(r.headers.get('content-type'), 'application/wasm');
    assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const sent = Number(r.headers.get('content-length'));
    const bytes = new Uint8Array(await r.arrayBuffer());
    assert.deepEqual([...bytes.slice(0, 4)], [0, 0x61, 0x73, 0x6d], 'a WebAssembly module');
    assert.ok(sent > 0 && sent < bytes.length * 0.6, `${coding}: ${sent} bytes sent for ${bytes.length}`);
    const again = await fetch(wasmUrl, {
      headers: { 'accept-encoding': coding, 'if-none-match': r.headers.get('etag') },
    });
    assert.equal(again.status, 304, 'a cached copy is confirmed, not sent again');
  }
  // The plain names still answer, revalidated by their ETag, for anything that asks by them.
  const plain = await fetch(`${server.url}/pkg/marquee.css`);
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get('cache-control'), 'no-cache');
  assert.ok(plain.headers.get('etag'));
  assert.equal((await fetch(`${server.url}/pkg/nothing.js`)).status, 404);
  // Nothing came from beside the binary; the only thing it made is its data directory.
  assert.deepEqual(readdirSync(dir).sort(), ['data', 'marquee']);
});

/** Home → Movies → `title` → Play; resolves once the video has played past 2 s. */
async function playMovie(title) {
  const { page, errors } = await openMovie(browser, server.url, title);
  await pressPlay(page);
  const state = await waitForPlayback(page, 2.0);
  const mode = await page.locator('.player').getAttribute('data-mode');
  await page.close();
  return { state, mode, errors };
}

test('movies play in Chromium from the lone binary, direct and through hls.js', async () => {
  const direct = await playMovie('Paper Satellites');
  assert.equal(direct.mode, 'direct');
  assert.ok(direct.state.currentTime > 2, `currentTime ${direct.state.currentTime}`);
  assert.deepEqual(direct.errors, []);

  const hls = await playMovie('Copper Sky');
  assert.equal(hls.mode, 'hls');
  assert.match(hls.state.src, /^blob:/, 'hls.js, loaded by its hashed name, feeds the video');
  assert.deepEqual(hls.errors, []);
});
