// The fake Discord client's side of an Activity: the parent frame that Discord's Embedded App
// SDK (inside the iframe) talks to over postMessage. It answers the handshake with READY, and
// the AUTHORIZE, AUTHENTICATE, SUBSCRIBE, OPEN_EXTERNAL_LINK and CAPTURE_LOG commands the way Discord's client does,
// using the fake Discord's OAuth2 (through this host's /_client/ routes). Everything it saw is
// kept in `window.fakeDiscord` for the test to read.
//
// Messages are `[opcode, payload]`: HANDSHAKE = 0, FRAME = 1, CLOSE = 2.
(() => {
  const frame = document.getElementById('activity');
  const cfg = frame.dataset;
  const participants = JSON.parse(cfg.participants);
  const record = (window.fakeDiscord = { handshake: null, commands: [], subscriptions: [], errors: [], logs: [], externalLinks: [] });

  const post = (message) => frame.contentWindow.postMessage(message, location.origin);
  const dispatch = (evt, data) => post([1, { cmd: 'DISPATCH', evt, nonce: null, data }]);

  async function handle(cmd, args, evt) {
    switch (cmd) {
      case 'AUTHORIZE': {
        if (args?.client_id !== cfg.clientId) throw new Error(`unknown client_id ${args?.client_id}`);
        if (args?.response_type !== 'code') throw new Error('response_type must be code');
        if (!Array.isArray(args?.scope) || !args.scope.includes('identify')) throw new Error('scope must include identify');
        const r = await fetch('/_client/authorize', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: cfg.userId, username: cfg.username }),
        });
        if (!r.ok) throw new Error(`authorize failed: ${r.status}`);
        return { code: (await r.json()).code };
      }
      case 'AUTHENTICATE': {
        const r = await fetch('/_client/users/@me', { headers: { authorization: `Bearer ${args?.access_token}` } });
        if (!r.ok) throw Object.assign(new Error('Invalid access token'), { code: 4009 });
        const user = await r.json();
        return {
          access_token: args.access_token,
          user: {
            id: user.id,
            username: user.username,
            discriminator: user.discriminator ?? '0',
            avatar: user.avatar ?? undefined,
            public_flags: user.public_flags ?? 0,
            global_name: user.global_name ?? null,
          },
          scopes: ['identify'],
          expires: new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString(),
          application: { id: cfg.clientId, name: 'Marquee', description: '' },
        };
      }
      case 'SUBSCRIBE': {
        record.subscriptions.push(evt);
        if (evt === 'ACTIVITY_INSTANCE_PARTICIPANTS_UPDATE') {
          // Discord pushes the current list right after subscribing.
          setTimeout(() => dispatch(evt, {
            participants: participants.map(([id, username]) => ({
              id, username, discriminator: '0', global_name: username, flags: 0, bot: false,
            })),
          }), 50);
        }
        return { evt };
      }
      case 'OPEN_EXTERNAL_LINK': {
        // Discord asks the user, then opens the link in their browser (outside the client); the
        // test plays the browser by opening what is recorded here.
        let url;
        try { url = new URL(args?.url); } catch { throw Object.assign(new Error('url is not a URL'), { code: 4000 }); }
        if (url.protocol !== 'https:' && url.protocol !== 'http:') throw Object.assign(new Error('only http(s) links open'), { code: 4000 });
        record.externalLinks.push(url.href);
        return { opened: true };
      }
      case 'CAPTURE_LOG':
        record.logs.push(args);
        return {};
      default:
        throw Object.assign(new Error(`the fake Discord client does not know ${cmd}`), { code: 1000 });
    }
  }

  window.addEventListener('message', async (event) => {
    if (event.source !== frame.contentWindow || !Array.isArray(event.data)) return;
    const [opcode, payload] = event.data;
    if (opcode === 0) {
      record.handshake = payload;
      if (payload.client_id !== cfg.clientId || payload.frame_id !== cfg.frameId) {
        post([2, { code: 4000, message: 'handshake does not match this frame' }]);
        return;
      }
      dispatch('READY', { v: 1, config: { cdn_host: 'cdn.discordapp.com', api_endpoint: '//discord.com/api', environment: 'production' } });
      return;
    }
    if (opcode !== 1) return;
    const { cmd, args, evt, nonce } = payload;
    record.commands.push(cmd);
    try {
      const data = await handle(cmd, args, evt);
      post([1, { cmd, evt: null, nonce, data }]);
    } catch (e) {
      record.errors.push(`${cmd}: ${e.message}`);
      post([1, { cmd, evt: 'ERROR', nonce, data: { code: e.code ?? 4000, message: e.message } }]);
    }
  });
})();
