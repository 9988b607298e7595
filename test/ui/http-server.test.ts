// waggle-test: no-kernel
// The agent's listener: route table, loopback default, token on other binds.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { after, describe, test } from 'node:test';
import { AgentHttpServer, isLoopbackHost, parseListenAddress, sendText } from '../../src/ui/http-server.js';

/** A non-loopback IPv4 address of this machine (eth0's), if any. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, { headers, redirect: 'manual' });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** fetch() cannot set Host; node:http can. */
function getWithHost(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', headers: { Host: host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('http server', () => {
  const servers: AgentHttpServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  async function start(opts: ConstructorParameters<typeof AgentHttpServer>[0]): Promise<AgentHttpServer> {
    const s = new AgentHttpServer({ port: 0, ...opts });
    s.route('GET', '/metrics', (_req, res) => sendText(res, 200, 'up 1\n'));
    s.route('GET', '/api/things/*', (_req, res, url) => sendText(res, 200, `thing ${url.pathname.slice('/api/things/'.length)}`));
    s.route('GET', '/boom', () => {
      throw new Error('handler failed');
    });
    s.route('POST', '/only-post', (_req, res) => sendText(res, 200, 'posted'));
    await s.listen();
    servers.push(s);
    return s;
  }

  test('defaults to loopback, no token; routes exact and by prefix; 404, 405, 500', async () => {
    const errors: unknown[] = [];
    const s = await start({ onError: (e) => errors.push(e) });
    assert.equal(s.host, '127.0.0.1');
    assert.equal(s.token, undefined);
    assert.equal((await get(`${s.url}/metrics`)).body, 'up 1\n');
    assert.equal((await get(`${s.url}/api/things/42`)).body, 'thing 42');
    assert.equal((await get(`${s.url}/nothing`)).status, 404);
    const wrongMethod = await get(`${s.url}/only-post`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    assert.equal((await get(`${s.url}/boom`)).status, 500);
    assert.equal(errors.length, 1);
  });

  test('a loopback bind refuses a non-loopback Host header (DNS rebinding)', async () => {
    const s = await start({});
    assert.equal(await getWithHost(s.port, 'evil.example:9400'), 403);
    assert.equal(await getWithHost(s.port, `localhost:${s.port}`), 200);
    assert.equal(await getWithHost(s.port, `[::1]:${s.port}`), 200);
  });

  test('a non-loopback bind generates a token and answers 401 without it', async (t) => {
    const address = externalAddress();
    if (!address) return t.skip('this machine has no non-loopback IPv4 address');
    const s = await start({ host: '0.0.0.0' });
    assert.ok(s.tokenGenerated);
    assert.ok(s.token && s.token.length >= 24);
    const base = `http://${address}:${s.port}`;
    assert.equal((await get(`${base}/metrics`)).status, 401);
    assert.equal((await get(`${base}/metrics`, { Authorization: 'Bearer wrong-token-wrong-token' })).status, 401);
    assert.equal((await get(`${base}/metrics?token=wrong`)).status, 401);
    assert.equal((await get(`${base}/metrics`, { Cookie: 'waggle_token=nope' })).status, 401);
    assert.equal((await get(`${base}/metrics`, { Authorization: `Bearer ${s.token}` })).body, 'up 1\n');
    assert.equal((await get(`${base}/metrics?token=${s.token}`)).body, 'up 1\n');
    assert.equal((await get(`${base}/metrics`, { Cookie: `other=1; waggle_token=${s.token}` })).body, 'up 1\n');
    assert.ok(s.browserUrl.includes(`token=${s.token}`));
  });

  test('a browser bringing ?token= gets a cookie and is redirected without it', async (t) => {
    const address = externalAddress();
    if (!address) return t.skip('this machine has no non-loopback IPv4 address');
    const token = 'a-given-token-of-enough-length';
    const s = await start({ host: address, token });
    assert.equal(s.tokenGenerated, false);
    const base = `http://${address}:${s.port}`;
    const r = await get(`${base}/api/things/7?x=1&token=${token}`, { Accept: 'text/html' });
    assert.equal(r.status, 303);
    assert.equal(r.headers.get('location'), '/api/things/7?x=1');
    const cookie = r.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^waggle_token=a-given-token-of-enough-length; Path=\/; HttpOnly; SameSite=Strict/);
    assert.equal((await get(`${base}/api/things/7`, { Cookie: cookie.split(';')[0]! })).body, 'thing 7');
  });

  test('a token given on loopback is enforced too', async () => {
    const s = await start({ token: 'loopback-token-0123456789' });
    assert.equal((await get(`${s.url}/metrics`)).status, 401);
    assert.equal((await get(`${s.url}/metrics`, { Authorization: 'Bearer loopback-token-0123456789' })).status, 200);
  });

  test('bad options and addresses are refused with the field named', async () => {
    assert.throws(() => new AgentHttpServer({ port: 70000 }), /ui port/);
    assert.throws(() => new AgentHttpServer({ token: 'short' }), /ui token/);
    assert.deepEqual(parseListenAddress('0.0.0.0:9500'), { host: '0.0.0.0', port: 9500 });
    assert.deepEqual(parseListenAddress('[::1]:9400'), { host: '::1', port: 9400 });
    assert.deepEqual(parseListenAddress(':9401'), { host: '127.0.0.1', port: 9401 });
    assert.throws(() => parseListenAddress('nope'), /listen: expected HOST:PORT/);
    assert.ok(isLoopbackHost('127.0.0.1') && isLoopbackHost('[::1]') && isLoopbackHost('localhost'));
    assert.ok(!isLoopbackHost('0.0.0.0') && !isLoopbackHost('192.0.2.2') && !isLoopbackHost('example.com'));
    const taken = await start({});
    await assert.rejects(new AgentHttpServer({ port: taken.port }).listen(), /address already in use/);
  });
});
