// A fake of what Discord puts around an Activity, on one loopback origin (as
// `https://<app id>.discordsays.com` is one origin inside Discord):
//
// - `/_client/activity.html?…` is the Discord client's page: an iframe of the Activity and the
//   parent script (parent.js) that answers the Embedded App SDK. Opening it is the user
//   launching (or joining) the Activity in that channel, so it first tells the fake Discord,
//   whose Activity instance then lists them, as Discord's does;
// - `/.proxy/…` is Discord's proxy: forwarded to Marquee with the prefix removed (WebSockets
//   too), as a URL mapping of `/` to Marquee does. The Host header becomes Marquee's; the browser's
//   Origin stays this origin, as it does through Discord;
// - anything else is not mapped: answered 404 and recorded in `unmapped`, so a test can tell that
//   the Activity used relative URLs only.
import { createServer, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { pipeline } from 'node:stream';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const PARENT_JS = readFileSync(join(import.meta.dirname, 'parent.js'));
const PROXY = '/.proxy';

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Starts the fake on a free port. `marqueeUrl` is Marquee's base URL, `discordUrl` the fake
 * Discord's (for codes and the user), `clientId` the application id.
 */
export async function startFakeActivityHost({ marqueeUrl, discordUrl, clientId }) {
  const upstream = new URL(marqueeUrl);
  const unmapped = [];
  let frames = 0;
  // Every socket, upgraded ones included (the HTTP server forgets those), so stop() can end them.
  const sockets = new Set();

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://fake');
    if (url.pathname === '/_client/activity.html') return parentPage(url, res).catch((e) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`the fake Discord did not take the launch: ${e}`);
    });
    if (url.pathname === '/_client/parent.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(PARENT_JS);
    }
    if (url.pathname === '/_client/authorize' && req.method === 'POST') {
      return forward(`${discordUrl}/_fake/authorization-code`, req, res);
    }
    if (url.pathname === '/_client/users/@me') {
      return forward(`${discordUrl}/api/v10/users/@me`, req, res);
    }
    if (url.pathname === PROXY || url.pathname.startsWith(`${PROXY}/`)) return proxy(req, res);
    if (url.pathname === '/favicon.ico') {
      // The client page's own icon (browsers ask for it for the top-level page only).
      res.writeHead(204);
      return res.end();
    }
    unmapped.push(`${req.method} ${req.url}`);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not under a URL mapping');
  });

  /** The Discord client's page for one user in one Activity instance. */
  async function parentPage(url, res) {
    const p = url.searchParams;
    const joined = await fetch(`${discordUrl}/_fake/activity-instances/${encodeURIComponent(p.get('instance_id'))}/join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: p.get('user_id'), channel_id: p.get('channel_id'), guild_id: p.get('guild_id') || null }),
    });
    if (joined.status !== 204) throw new Error(`${joined.status} ${await joined.text()}`);
    frames += 1;
    const frameId = `frame-${frames}`;
    const launch = new URLSearchParams({
      frame_id: frameId,
      instance_id: p.get('instance_id'),
      platform: p.get('platform') ?? 'desktop',
      guild_id: p.get('guild_id') ?? '',
      channel_id: p.get('channel_id') ?? '',
    });
    const participants = JSON.stringify((p.get('participants') ?? '').split(',').filter(Boolean).map((x) => x.split(':')));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Discord (fake)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>html,body{margin:0;height:100%;background:#1e1f22}iframe{border:0;width:100%;height:100%;display:block}</style></head>
<body><iframe id="activity" allow="encrypted-media; fullscreen" src="${PROXY}/?${escape(launch)}"
 data-client-id="${escape(clientId)}" data-frame-id="${escape(frameId)}" data-user-id="${escape(p.get('user_id'))}"
 data-username="${escape(p.get('username'))}" data-participants="${escape(participants)}"></iframe>
<script src="/_client/parent.js"></script></body></html>`);
  }

  function forward(target, req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const r = await fetch(target, {
          method: req.method,
          headers: { 'content-type': req.headers['content-type'] ?? 'application/json', authorization: req.headers.authorization ?? '' },
          body: req.method === 'POST' ? Buffer.concat(chunks) : undefined,
        });
        res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await r.arrayBuffer()));
      } catch (e) {
        res.writeHead(502);
        res.end(String(e));
      }
    });
  }

  function upstreamPath(path) {
    const rest = path.slice(PROXY.length);
    return rest.startsWith('/') ? rest : `/${rest}`;
  }

  // As Discord's proxy does, the upstream request lives exactly as long as the browser's: when
  // the browser goes (a <video> that stops loading, a closed tab), the request to Marquee is
  // closed too, so Marquee is never left writing to a reader that has gone.
  function proxy(req, res) {
    const headers = { ...req.headers, host: upstream.host };
    const out = httpRequest({
      host: upstream.hostname, port: upstream.port, method: req.method, path: upstreamPath(req.url), headers,
    }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      pipeline(r, res, () => {});
    });
    out.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(e));
    });
    res.on('close', () => out.destroy());
    pipeline(req, out, () => {});
  }

  // WebSockets: replay the upgrade request upstream, then splice the two sockets.
  server.on('upgrade', (req, socket, head) => {
    if (!req.url.startsWith(`${PROXY}/`)) {
      unmapped.push(`UPGRADE ${req.url}`);
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    const up = connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${req.method} ${upstreamPath(req.url)} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const [name, value] = [req.rawHeaders[i], req.rawHeaders[i + 1]];
        lines.push(`${name}: ${name.toLowerCase() === 'host' ? upstream.host : value}`);
      }
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head?.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    const close = () => { up.destroy(); socket.destroy(); };
    up.on('error', close);
    socket.on('error', close);
  });

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    url: base,
    unmapped,
    /** The Discord client's page: `user` = [id, name], Activity `instance`, `channel`, `guild`. */
    launchUrl({ user, instance, channel, guild, platform = 'desktop', participants = [] }) {
      const q = new URLSearchParams({
        user_id: user[0], username: user[1], instance_id: instance, channel_id: channel, guild_id: guild, platform,
        participants: participants.map((p) => p.join(':')).join(','),
      });
      return `${base}/_client/activity.html?${q}`;
    },
    stop() {
      const closed = new Promise((ok) => server.close(ok));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      return closed;
    },
  };
}
