// connect and bind policies: destination CIDR and port selectors evaluated in
// the kernel, IPv4 and IPv6, negations, and what sigkill at connect does.
import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:net';
import { after, before, test } from 'node:test';
import type { BindEvent, ConnectEvent, SecurityEvent } from '../../src/security/index.js';
import { PYTHON, policies, policy, run, startAgent } from './harness.js';

let server4: Server;
let server6: Server;
let port: number;
let accepted = 0;
let received = 0;

function listen(host: string, p: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((c) => {
      accepted++;
      c.on('data', (d) => (received += d.length));
      c.on('error', () => undefined);
    });
    s.on('error', reject);
    s.listen(p, host, () => resolve(s));
  });
}

before(async () => {
  server4 = await listen('127.0.0.1', 0);
  port = (server4.address() as { port: number }).port;
  server6 = await listen('::1', port);
});
after(() => {
  server4.close();
  server6.close();
});

const isConnect = (e: SecurityEvent): e is ConnectEvent => e.type === 'connect';

/** Python connecting to each (host, port) in turn, non-blocking, then closing. */
function connectAll(targets: [string, number][]): number {
  const code = [
    'import socket, sys',
    `for host, port in ${JSON.stringify(targets)}:`,
    '  s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)',
    '  s.setblocking(False)',
    '  try: s.connect((host, port))',
    '  except (BlockingIOError, OSError): pass',
    '  s.close()',
  ].join('\n');
  const r = run(PYTHON, ['-c', code]);
  assert.equal(r.status, 0, r.stderr);
  return r.pid;
}

test('destination CIDR and port: exactly the matching connects are reported', async () => {
  const h = await startAgent({
    policies: policies(
      policy('loopback-port', 'connect', `- destination: {cidr: [127.0.0.0/8], ports: [${port}]}`),
      policy('v6-loopback', 'connect', '- destination: {cidr: ["::1/128"]}'),
      policy('doc-net', 'connect', '- destination: {cidr: [192.0.2.0/24, "2001:db8::/32"], notPorts: [9]}'),
    ),
  });
  try {
    const pid = connectAll([
      ['127.0.0.1', port],
      ['127.0.0.1', port + 1],
      ['::1', port],
      ['192.0.2.10', 80],
      ['192.0.2.11', 9],
      ['2001:db8::7', 443],
      ['10.1.2.3', port],
    ]);
    const evs = await h.waitFor<ConnectEvent>(4, (e) => isConnect(e) && e.process.pid === pid);
    assert.deepEqual(
      evs.map((e) => [e.policy, e.destination]),
      [
        ['loopback-port', { family: 'ipv4', address: '127.0.0.1', port }],
        ['v6-loopback', { family: 'ipv6', address: '::1', port }],
        ['doc-net', { family: 'ipv4', address: '192.0.2.10', port: 80 }],
        ['doc-net', { family: 'ipv6', address: '2001:db8::7', port: 443 }],
      ],
    );
    assert.ok(evs.every((e) => e.process.binary === '/usr/bin/python3.11' && e.syscall === 'connect'));
  } finally {
    await h.close();
  }
});

test('a network tool outside the allowed destinations is reported; unix sockets are not connects', async () => {
  const h = await startAgent({ policies: policies(policy('python-out', 'connect', '- binary: {equal: [/usr/bin/python3.11]}\n  destination: {notCidr: [127.0.0.0/8, "::1/128"]}')) });
  try {
    const code = [
      'import socket',
      's = socket.socket(socket.AF_UNIX)',
      'try: s.connect("/run/waggle-no-such.sock")',
      'except OSError: pass',
    ].join('\n');
    const unix = run(PYTHON, ['-c', code]);
    const pid = connectAll([
      ['127.0.0.1', port],
      ['198.51.100.1', 443],
    ]);
    const evs = await h.waitFor<ConnectEvent>(1, (e) => isConnect(e) && (e.process.pid === pid || e.process.pid === unix.pid));
    assert.deepEqual(
      evs.map((e) => [e.process.pid, e.destination.address]),
      [[pid, '198.51.100.1']],
    );
  } finally {
    await h.close();
  }
});

test('sigkill at connect: the process dies before sending a byte (the handshake itself has happened)', async () => {
  const h = await startAgent({ policies: policies(policy('no-connect', 'connect', `- binary: {equal: [/usr/bin/python3.11]}\n  destination: {ports: [${port}]}\n  action: sigkill`)) });
  try {
    const acceptedBefore = accepted;
    const code = `import socket\ns = socket.create_connection(("127.0.0.1", ${port}))\ns.sendall(b"secret")\nprint("sent")`;
    const r = run(PYTHON, ['-c', code]);
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.stdout, '');
    const [ev] = await h.waitFor<ConnectEvent>(1, (e) => isConnect(e) && e.process.pid === r.pid);
    assert.equal(ev!.action, 'sigkill');
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(received, 0, 'no payload reached the server');
    assert.equal(accepted - acceptedBefore, 1, 'the kernel completed the handshake (the signal is delivered on return from connect)');
  } finally {
    await h.close();
  }
});

test('bind: local port selector', async () => {
  const h = await startAgent({ policies: policies(policy('bind-port', 'bind', `- address: {ports: [${port + 7}]}`)) });
  try {
    const code = `import socket\nfor p in (${port + 7}, ${port + 8}):\n  s = socket.socket()\n  s.bind(("127.0.0.1", p))\n  s.close()`;
    const r = run(PYTHON, ['-c', code]);
    assert.equal(r.status, 0, r.stderr);
    const evs = await h.waitFor<BindEvent>(1, (e) => e.type === 'bind' && e.process.pid === r.pid);
    assert.deepEqual(
      evs.map((e) => e.address),
      [{ family: 'ipv4', address: '127.0.0.1', port: port + 7 }],
    );
  } finally {
    await h.close();
  }
});
