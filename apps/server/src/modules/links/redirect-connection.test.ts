import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { installRedirectConnections, parseRedirectHead, type RedirectConnections } from './redirect-connection.js';
import type { RedirectRequest, SendResponse } from './redirect.js';

const head = (lines: string[]) => lines.join('\r\n');

describe('parseRedirectHead', () => {
  it('reads a redirect request and the headers the redirect uses', () => {
    const parsed = parseRedirectHead(
      head([
        'GET /r/abc?gclid=1 HTTP/1.1',
        'Host: t.example',
        'User-Agent: Mozilla/5.0',
        'cookie: a=1',
        'Cookie: tdm_click=clk_x',
        'X-Forwarded-For: 1.2.3.4',
        'x-forwarded-for: 5.6.7.8',
        'Referer:   https://blog.example/post  ',
        'CF-IPCountry: DE',
        'Content-Length: 0',
      ]),
      'cf-ipcountry',
    );
    expect(parsed).toEqual({
      keepAlive: true,
      request: {
        method: 'GET',
        url: '/r/abc?gclid=1',
        userAgent: 'Mozilla/5.0',
        cookie: 'a=1; tdm_click=clk_x',
        referer: 'https://blog.example/post',
        forwardedFor: '1.2.3.4, 5.6.7.8',
        country: 'DE',
        remoteAddress: undefined,
      },
    });
  });

  it('matches header names in any case, skips the others, and reads a country header of any token characters', () => {
    const parsed = parseRedirectHead(
      head([
        'GET /r/a HTTP/1.1',
        'HOST: x',
        'uSeR-aGeNt: UA',
        // Same length as user-agent, not it; and names that differ only in non-letters.
        'user_agent: no',
        'X-Forwarded_For: 9.9.9.9',
        'Accept-Language: de',
        'X-Geo_Country2: fr',
        "x-odd!#$%&'*+.^_`|~: fine",
      ]),
      'x-geo_country2',
    );
    expect(parsed?.request).toMatchObject({ userAgent: 'UA', forwardedFor: undefined, country: 'fr' });
    // `_` lower-cased by `| 0x20` would be DEL: an upper-case country header still matches only itself.
    expect(parseRedirectHead(head(['GET /r/a HTTP/1.1', 'Host: x', 'X-GEO_COUNTRY2: it']), 'x-geo_country2')?.request.country).toBe('it');
    expect(parseRedirectHead(head(['GET /r/a HTTP/1.1', 'Host: x', 'X-GEO\x7fCOUNTRY2: it']), 'x-geo_country2')).toBeNull();
  });

  it('knows when the client wants the connection closed or kept', () => {
    expect(parseRedirectHead(head(['GET /r/a HTTP/1.1', 'Host: x', 'Connection: close']), undefined)?.keepAlive).toBe(false);
    expect(parseRedirectHead(head(['HEAD /r/a HTTP/1.0']), undefined)?.keepAlive).toBe(false);
    expect(parseRedirectHead(head(['GET /r/a HTTP/1.0', 'Connection: Keep-Alive']), undefined)?.keepAlive).toBe(true);
  });

  it('trims only spaces and tabs around a value, in linear time, and keeps the first User-Agent and Referer as node does', () => {
    const parsed = parseRedirectHead(head(['GET /r/a HTTP/1.1', 'Host: x', 'User-Agent: \t a  b\xa0 \t', 'User-Agent: second', 'Referer: r1', 'Referer: r2']), undefined);
    expect(parsed?.request.userAgent).toBe('a  b\xa0');
    expect(parsed?.request.referer).toBe('r1');
    // A long inner run of spaces once made a regex trim quadratic (120 ms per request at 16,000).
    const spaces = head(['GET /r/a HTTP/1.1', 'Host: x', `User-Agent: a${' '.repeat(16_000)}b`]);
    const started = performance.now();
    for (let i = 0; i < 50; i++) expect(parseRedirectHead(spaces, undefined)?.request.userAgent).toHaveLength(16_002);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('closes when any Connection header says close, whatever else it says', () => {
    expect(parseRedirectHead(head(['GET /r/a HTTP/1.1', 'Host: x', 'Connection: close', 'Connection: keep-alive']), undefined)?.keepAlive).toBe(false);
  });

  it.each([
    ['another path', ['GET /api/v1/links HTTP/1.1', 'Host: x']],
    ['another method', ['POST /r/a HTTP/1.1', 'Host: x']],
    ['a body', ['GET /r/a HTTP/1.1', 'Host: x', 'Content-Length: 5']],
    ['a chunked body', ['GET /r/a HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked']],
    ['an upgrade', ['GET /r/a HTTP/1.1', 'Host: x', 'Connection: Upgrade', 'Upgrade: websocket']],
    ['an expectation', ['GET /r/a HTTP/1.1', 'Host: x', 'Expect: 100-continue']],
    ['a folded header', ['GET /r/a HTTP/1.1', 'Host: x', 'User-Agent: a', ' b']],
    ['an invalid header name', ['GET /r/a HTTP/1.1', 'Host: x', 'Bad Name: 1']],
    ['a control character in a value', ['GET /r/a HTTP/1.1', 'Host: x', 'User-Agent: a\x01b']],
    ['a bare line feed in a value', ['GET /r/a HTTP/1.1', 'Host: x', 'User-Agent: a\nX-Injected: 1']],
    ['a bare carriage return in a value', ['GET /r/a HTTP/1.1', 'Host: x', 'User-Agent: a\rX-Injected: 1']],
    ['a control character in a header the redirect skips', ['GET /r/a HTTP/1.1', 'Host: x', 'Accept: a\x00b']],
    ['a header line without a colon', ['GET /r/a HTTP/1.1', 'Host: x', 'NoColonHere']],
    ['an empty header name', ['GET /r/a HTTP/1.1', 'Host: x', ': value']],
    ['a space in the target', ['GET /r/a b HTTP/1.1', 'Host: x']],
    ['a non-ASCII target', ['GET /r/caf\xe9 HTTP/1.1', 'Host: x']],
    ['another protocol version', ['GET /r/a HTTP/2.0', 'Host: x']],
    ['no Host in HTTP/1.1', ['GET /r/a HTTP/1.1']],
    ['two Host headers', ['GET /r/a HTTP/1.1', 'Host: x', 'Host: y']],
  ])('leaves a request with %s to node', (_what, lines) => {
    expect(parseRedirectHead(head(lines), undefined)).toBeNull();
  });
});

/** A server with the redirect's connections in front: redirects answered by `answer`, the rest by node. */
async function serve(answer: (request: RedirectRequest, send: SendResponse) => void, extra: { finishGraceMs?: number; keepAliveTimeoutMs?: number; headersTimeoutMs?: number } = {}) {
  const nodeSeen: string[] = [];
  const server = http.createServer((req, res) => {
    nodeSeen.push(`${req.method} ${req.url}`);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`node:${req.method}:${req.url}:${body}`);
    });
  });
  const connections: RedirectConnections = installRedirectConnections(server, { answer, countryHeader: undefined, keepAliveTimeoutMs: 5_000, headersTimeoutMs: 5_000, ...extra });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { server, port, nodeSeen, connections };
}

/** Sends raw bytes on one socket and collects everything until the server closes it or `until` matches. */
function exchange(port: number, writes: string[], until?: (received: string) => boolean): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ text, closedByServer });
    };
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (until?.(text)) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('error', reject);
    socket.on('connect', async () => {
      for (const w of writes) {
        socket.write(w);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    setTimeout(() => finish(false), 3_000);
  });
}

const count = (text: string, what: string) => text.split(what).length - 1;
const redirectTo = (request: RedirectRequest, send: SendResponse) =>
  send(302, ['location', `https://dest.example/?for=${encodeURIComponent(request.url)}&ua=${encodeURIComponent(request.userAgent ?? '')}`, 'content-length', '0']);

let current: { server: http.Server } | undefined;
afterEach(async () => {
  if (current) await new Promise((resolve) => current!.server.close(resolve));
  current = undefined;
});

describe('the redirect connection handler', () => {
  it('answers redirects itself, keeps the connection, and hands it to node at the first other request', async () => {
    const answered: string[] = [];
    const s = (current = await serve((request, send) => {
      answered.push(request.url);
      redirectTo(request, send);
    }));
    const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: t.example\r\nUser-Agent: UA\r\n\r\n`;
    const { text } = await exchange(s.port, [get('/r/one'), get('/r/two'), get('/api/v1/x'), get('/r/three')], (t) => count(t, 'HTTP/1.1 ') === 4);
    expect(answered).toEqual(['/r/one', '/r/two']);
    // Once node has the connection it keeps it: the fourth request is node's too.
    expect(s.nodeSeen).toEqual(['GET /api/v1/x', 'GET /r/three']);
    expect(text).toContain('location: https://dest.example/?for=%2Fr%2Fone&ua=UA');
    expect(text).toContain('node:GET:/api/v1/x:');
    expect(count(text, 'HTTP/1.1 302 Found')).toBe(2);
    expect(text).toMatch(/connection: keep-alive/);
  });

  it('destroys an ending connection whose client never reads its last answer, after the grace time', async () => {
    // A body far larger than the kernel buffers both sides hold: most of it stays unsent.
    const big = Buffer.alloc(32 * 1024 * 1024, 'x');
    const s = (current = await serve((_request, send) => send(302, ['location', 'https://dest.example/', 'content-length', String(big.length)], big), { finishGraceMs: 300 }));
    const client = net.connect(s.port, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    client.pause(); // never reads
    client.on('error', () => {});
    const open = () => new Promise<number>((resolve) => s.server.getConnections((_e, n) => resolve(n)));
    try {
      // `Connection: close`: the answer is the last one, so the handler ends the connection after it.
      client.write('GET /r/big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const started = Date.now();
      await new Promise((r) => setTimeout(r, 100));
      expect(await open()).toBe(1); // still delivering
      while ((await open()) > 0 && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 20));
      expect(await open()).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    } finally {
      client.destroy();
    }
  });

  it('hands a first request with a body to node with every byte', async () => {
    const s = (current = await serve(redirectTo));
    const body = 'x'.repeat(70_000);
    const { text } = await exchange(s.port, [`POST /r/one HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`]);
    expect(s.nodeSeen).toEqual(['POST /r/one']);
    expect(text).toContain(`node:POST:/r/one:${body}`);
  });

  it('answers pipelined requests in order, even when one of them waits', async () => {
    const s = (current = await serve((request, send) => {
      if (request.url === '/r/slow') setTimeout(() => redirectTo(request, send), 50);
      else redirectTo(request, send);
    }));
    const pipelined = ['/r/a', '/r/slow', '/r/c'].map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join('');
    const { text } = await exchange(s.port, [pipelined], (t) => count(t, 'HTTP/1.1 302') === 3);
    const order = [...text.matchAll(/for=%2Fr%2F(\w+)/g)].map((m) => m[1]);
    expect(order).toEqual(['a', 'slow', 'c']);
  });

  it('sends no body for HEAD, and closes after an HTTP/1.0 request or Connection: close', async () => {
    const s = (current = await serve((request, send) => send(404, ['content-type', 'text/plain', 'content-length', '9'], 'not found')));
    const headOnly = await exchange(s.port, ['HEAD /r/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    expect(headOnly.text).toContain('HTTP/1.1 404 Not Found');
    expect(headOnly.text).toContain('content-length: 9');
    expect(headOnly.text).not.toContain('not found');
    expect(headOnly.text).toContain('connection: close');
    expect(headOnly.closedByServer).toBe(true);
    const old = await exchange(s.port, ['GET /r/x HTTP/1.0\r\n\r\n']);
    expect(old.text.endsWith('not found')).toBe(true);
    expect(old.closedByServer).toBe(true);
  });

  it('leaves an oversized head to node, which refuses it', async () => {
    const s = (current = await serve(redirectTo));
    const { text } = await exchange(s.port, [`GET /r/x HTTP/1.1\r\nHost: x\r\nCookie: ${'c'.repeat(20_000)}\r\n\r\n`]);
    expect(text).toMatch(/^HTTP\/1\.1 431/);
  });

  it.each([
    ['holding CR LF', 'https://x.example/\r\nset-cookie: evil=1'],
    ['holding a character that becomes CR or LF on the wire', 'https://x.example/\u010d\u010aset-cookie: evil=1'],
  ])('never writes a header value %s (it would split the response)', async (_what, location) => {
    const s = (current = await serve((request, send) => send(302, ['location', location, 'content-length', '0'])));
    const { text, closedByServer } = await exchange(s.port, ['GET /r/x HTTP/1.1\r\nHost: x\r\n\r\n']);
    expect(text).toBe('');
    expect(closedByServer).toBe(true);
  });

  it('frames every answer: a body without content-length gets one, so the next answer is not read as its body', async () => {
    const s = (current = await serve((request, send) => send(request.url === '/r/down' ? 503 : 302, request.url === '/r/down' ? ['content-type', 'text/plain'] : ['location', 'https://x.example/', 'content-length', '0'], request.url === '/r/down' ? 'briefly unavailable ✓' : undefined)));
    const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
    const { text } = await exchange(s.port, [get('/r/down') + get('/r/ok')], (t) => t.includes('302 Found'));
    expect(text).toContain(`content-length: ${Buffer.byteLength('briefly unavailable ✓')}`);
    expect(text).toContain('302 Found');
  });

  it('closes its socket after a last answer even when the client never closes its side', async () => {
    const s = (current = await serve(redirectTo));
    const socket = net.connect({ port: s.port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => undefined);
    socket.resume(); // read (and drop) the answer, so that its end is seen
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /r/a HTTP/1.0\r\n\r\n');
    await new Promise((resolve) => socket.once('end', resolve));
    await new Promise((r) => setTimeout(r, 50));
    const open = await new Promise<number>((resolve) => s.server.getConnections((_error, n) => resolve(n)));
    expect(open).toBe(0);
    socket.destroy();
  });

  it('writes a turn\'s answers together, and never loses one to a later answer that ends the connection', async () => {
    const s = (current = await serve((request, send) =>
      // A destination that cannot be written as a header value: that answer ends the connection.
      send(302, ['location', request.url.includes('bad') ? 'https://x.example/\u0100' : 'https://shop.example/a', 'content-length', '0']),
    ));
    const pipelined = await exchange(s.port, ['GET /r/a HTTP/1.1\r\nHost: x\r\n\r\nGET /r/b HTTP/1.1\r\nHost: x\r\n\r\nGET /r/bad HTTP/1.1\r\nHost: x\r\n\r\n']);
    // Both answers written before the bad one arrive, in order, then the connection ends.
    expect(pipelined.text.match(/HTTP\/1\.1 302 Found/g)).toHaveLength(2);
    expect(pipelined.text).not.toContain('x.example');
    expect(pipelined.closedByServer).toBe(true);
  });

  it('destroys rather than hands over a connection whose client already ended', async () => {
    let release: (() => void) | undefined;
    const s = (current = await serve((request, send) => {
      release = () => redirectTo(request, send);
    }));
    const socket = net.connect(s.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.end('GET /r/wait HTTP/1.1\r\nHost: x\r\n\r\nGET /api/next HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    release!();
    await closed;
    expect(text).toContain('302 Found');
    expect(s.nodeSeen).toEqual([]);
  });

  it('on close, ends idle connections at once and a busy one right after its answer', async () => {
    let release: (() => void) | undefined;
    const s = await serve((request, send) => {
      if (request.url === '/r/wait') release = () => redirectTo(request, send);
      else redirectTo(request, send);
    });
    const idle = exchange(s.port, ['GET /r/a HTTP/1.1\r\nHost: x\r\n\r\n']);
    const busy = exchange(s.port, ['GET /r/wait HTTP/1.1\r\nHost: x\r\n\r\n']);
    await new Promise((r) => setTimeout(r, 100));
    expect(s.connections.open).toBe(2);
    const closed = new Promise((resolve) => s.server.close(resolve));
    const idleResult = await idle;
    expect(idleResult.closedByServer).toBe(true);
    expect(idleResult.text).toContain('302 Found');
    release!();
    const busyResult = await busy;
    expect(busyResult.text).toContain('connection: close');
    expect(busyResult.closedByServer).toBe(true);
    await closed;
    expect(s.connections.open).toBe(0);
  });

  it('tells the redirect the peer address, and counts its connections as the server\'s', async () => {
    const seen: (string | undefined)[] = [];
    const s = (current = await serve((request, send) => {
      seen.push(request.remoteAddress);
      redirectTo(request, send);
    }));
    const socket = net.connect(s.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /r/a HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve));
    expect(seen).toEqual(['127.0.0.1']);
    expect(await new Promise<number>((resolve) => s.server.getConnections((_e, n) => resolve(n)))).toBe(1);
    socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(await new Promise<number>((resolve) => s.server.getConnections((_e, n) => resolve(n)))).toBe(0);
    expect(s.connections.open).toBe(0);
  });

  it('closes a kept-alive connection left idle past the keep-alive timeout', async () => {
    const s = (current = await serve(redirectTo, { keepAliveTimeoutMs: 200 }));
    const started = Date.now();
    const { text, closedByServer } = await exchange(s.port, ['GET /r/a HTTP/1.1\r\nHost: x\r\n\r\n']);
    expect(text).toContain('302 Found');
    expect(closedByServer).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('closes a connection whose request head trickles in slower than the head deadline, even while bytes keep coming', async () => {
    const s = (current = await serve(redirectTo, { headersTimeoutMs: 300, keepAliveTimeoutMs: 10_000 }));
    const trickle = 'GET /r/a HTTP/1.1\r\nHost: x\r\nX-Slow: '.split('').concat(Array.from({ length: 40 }, () => 'y'));
    const started = Date.now();
    const { text, closedByServer } = await exchange(s.port, trickle);
    expect(text).toBe('');
    expect(closedByServer).toBe(true);
    // 20 ms between bytes: the whole head would take over a second; the deadline ends it first.
    expect(Date.now() - started).toBeLessThan(1_200);
  });

  it('leaves connections beyond the server\'s maxConnections to node, which drops them', async () => {
    const s = (current = await serve(redirectTo));
    s.server.maxConnections = 1;
    const first = net.connect(s.port, '127.0.0.1');
    first.on('error', () => undefined);
    await new Promise((resolve) => first.once('connect', resolve));
    first.write('GET /r/a HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => first.once('data', resolve));
    const second = await exchange(s.port, ['GET /r/b HTTP/1.1\r\nHost: x\r\n\r\n']);
    expect(second.text).toBe('');
    first.destroy();
  });

  it('keeps answering after a client that stopped reading takes its answers again', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 'z');
    const s = (current = await serve((request, send) =>
      request.url === '/r/big' ? send(302, ['location', 'https://dest.example/', 'content-length', String(big.length)], big) : redirectTo(request, send),
    ));
    const socket = net.connect(s.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause();
    socket.write('GET /r/big HTTP/1.1\r\nHost: x\r\n\r\nGET /r/after HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    let received = 0;
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > big.length) text += chunk.toString('latin1');
    });
    socket.resume();
    const deadline = Date.now() + 3_000;
    while (!text.includes('for=%2Fr%2Fafter') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(text).toContain('for=%2Fr%2Fafter');
    socket.destroy();
  });
});
