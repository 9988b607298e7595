// Real HTTP/1 clients driven through a plan of requests. Each starts paused (on
// stdin) so the test can watch its pid before its first byte, runs its plan on
// as few connections as the client allows, prints the status of each response,
// and is killed if it overruns.
import { type Child, python3, startChild } from '../../../helpers/process.js';
import type { ClientName } from './framing-cases.js';

export interface PlannedRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface ClientRun {
  pid: number;
  /** Final statuses the client received, in order. */
  statuses: number[];
  exit: { code: number | null; signal: NodeJS.Signals | null } | 'timeout';
  stderr: string;
}

const PYTHON_HTTP_CLIENT = String.raw`
import http.client, json, sys
port, plan = int(sys.argv[1]), json.loads(sys.argv[2])
sys.stdin.readline()
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
for r in plan:
    body = r.get("body")
    conn.request(r.get("method", "GET"), r["path"], body=body.encode("latin1") if body is not None else None, headers=r.get("headers", {}))
    resp = conn.getresponse()
    resp.read()
    print(resp.status, flush=True)
conn.close()
`;

const PYTHON_URLLIB = String.raw`
import json, sys, urllib.error, urllib.request
port, plan = int(sys.argv[1]), json.loads(sys.argv[2])
sys.stdin.readline()
for r in plan:
    body = r.get("body")
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, r["path"]), data=body.encode("latin1") if body is not None else None, headers=r.get("headers", {}), method=r.get("method", "GET"))
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()
            status = resp.status
    except urllib.error.HTTPError as e:
        e.read()
        status = e.code
    print(status, flush=True)
`;

const UNDICI_FETCH = String.raw`
const [port, plan] = [process.argv[1], JSON.parse(process.argv[2])];
process.stdin.once('data', async () => {
  for (const r of plan) {
    const res = await fetch('http://127.0.0.1:' + port + r.path, { method: r.method || 'GET', headers: r.headers || {}, body: r.body });
    await res.arrayBuffer();
    console.log(res.status);
  }
  process.exit(0);
});
`;

// Node's own http client (what axios and most SDKs use) with a keep-alive agent
// of one socket; an Expect: 100-continue body waits for the 100 (or 1 s, as curl).
const NODE_HTTP = String.raw`
const http = require('http');
const [port, plan] = [Number(process.argv[1]), JSON.parse(process.argv[2])];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const one = (r) => new Promise((resolve, reject) => {
  const req = http.request({ host: '127.0.0.1', port, agent, method: r.method || 'GET', path: r.path, headers: r.headers || {} }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode));
  });
  req.on('error', reject);
  if (r.body === undefined) return req.end();
  if (/100-continue/i.test((r.headers || {}).Expect || '')) {
    const send = () => { clearTimeout(t); if (!req.writableEnded) req.end(r.body); };
    const t = setTimeout(send, 1000);
    req.on('continue', send);
    req.flushHeaders();
  } else req.end(r.body);
});
process.stdin.once('data', async () => {
  for (const r of plan) console.log(await one(r));
  agent.destroy();
  process.exit(0);
});
`;

function curlConfig(port: number, plan: PlannedRequest[]): string {
  const q = (s: string) => JSON.stringify(s);
  return plan
    .map((r) => {
      const lines = [`url = ${q(`http://127.0.0.1:${port}${r.path}`)}`, 'output = "/dev/null"', 'write-out = "%{http_code}\\n"'];
      if (r.method === 'HEAD') lines.push('head');
      else if (r.method && r.method !== 'GET' && r.body === undefined) lines.push(`request = ${q(r.method)}`);
      if (r.body !== undefined) lines.push(`data-binary = ${q(r.body)}`);
      for (const [k, v] of Object.entries(r.headers ?? {})) lines.push(`header = ${q(`${k}: ${v}`)}`);
      return lines.join('\n');
    })
    .join('\nnext\n');
}

/** The client, started and waiting for go() (for callers that watch it another way, e.g. by an agent's --pid). */
export function startClient(name: ClientName, port: number, plan: PlannedRequest[], env: NodeJS.ProcessEnv = process.env): { child: Child; go(): void } {
  const json = JSON.stringify(plan);
  const spawn = (cmd: string, args: string[]) => startChild(cmd, args, { env });
  switch (name) {
    case 'curl': {
      // curl reads its config (-K -) from stdin and starts once stdin ends; one
      // connection for every URL, reopened only after a close.
      const child = spawn('curl', ['-s', '--max-time', '20', '-K', '-']);
      return { child, go: () => child.proc.stdin!.end(curlConfig(port, plan)) };
    }
    case 'python-http.client': {
      const child = spawn(python3, ['-c', PYTHON_HTTP_CLIENT, String(port), json]);
      return { child, go: () => child.write('go\n') };
    }
    case 'python-urllib': {
      const child = spawn(python3, ['-c', PYTHON_URLLIB, String(port), json]);
      return { child, go: () => child.write('go\n') };
    }
    case 'undici-fetch': {
      const child = spawn(process.execPath, ['-e', UNDICI_FETCH, String(port), json]);
      return { child, go: () => child.write('go\n') };
    }
    case 'node-http': {
      const child = spawn(process.execPath, ['-e', NODE_HTTP, String(port), json]);
      return { child, go: () => child.write('go\n') };
    }
  }
}

/** Runs `plan` with client `name`; `watch` is called with its pid before it sends anything. */
export async function runClient(name: ClientName, port: number, plan: PlannedRequest[], watch: (pid: number) => void, timeoutMs = 30_000): Promise<ClientRun> {
  const { child, go } = startClient(name, port, plan);
  let stderr = '';
  child.proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let timer: NodeJS.Timeout | undefined;
  try {
    watch(child.pid);
    go();
    const exit = await Promise.race([child.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
    return { pid: child.pid, statuses: child.output().split('\n').filter(Boolean).map(Number), exit, stderr };
  } finally {
    clearTimeout(timer);
    child.kill();
  }
}

const RAW_CLIENT = String.raw`
const net = require('net');
const [port, steps] = [Number(process.argv[1]), JSON.parse(process.argv[2])];
const total = steps.reduce((a, s) => a + s.expectBytes, 0);
process.stdin.once('data', () => {
  const sock = net.createConnection({ port, host: '127.0.0.1', noDelay: true });
  let got = 0;
  let text = '';
  let waiter;
  let done = false;
  sock.on('data', (d) => {
    got += d.length;
    text += d.toString('latin1');
    if (waiter && got >= waiter.want) waiter.resolve();
  });
  sock.on('connect', async () => {
    let want = 0;
    for (const s of steps) {
      sock.write(s.send, 'latin1');
      want += s.expectBytes;
      // A step with nothing to wait for is followed after a pause, so the next one is its own read.
      if (s.expectBytes === 0) await new Promise((r) => setTimeout(r, 5));
      else if (got < want) await new Promise((resolve) => (waiter = { want, resolve }));
      waiter = undefined;
    }
    for (const m of text.matchAll(/HTTP\/1\.[01] ([2-5]\d\d)/g)) console.log(m[1]);
    done = true;
    sock.end();
  });
  sock.on('close', () => process.exit(done && got === total ? 0 : 1));
});
`;

export interface RawStep {
  /** Bytes written in one write(). */
  send: string;
  /** Response bytes to read before the next step (0: go on after 5 ms). */
  expectBytes: number;
}

/**
 * A client on one connection that writes each step's bytes in one write()
 * (several requests in one step: pipelining) and reads the step's response bytes
 * before the next; prints the final statuses it saw. Starts paused, like runClient.
 */
export async function runRawClient(port: number, steps: RawStep[], watch: (pid: number) => void, timeoutMs = 10_000): Promise<ClientRun> {
  const child = startRawClient(port, steps);
  let stderr = '';
  child.proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let timer: NodeJS.Timeout | undefined;
  try {
    watch(child.pid);
    child.write('go\n');
    const exit = await Promise.race([child.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
    return { pid: child.pid, statuses: child.output().split('\n').filter(Boolean).map(Number), exit, stderr };
  } finally {
    clearTimeout(timer);
    child.kill();
  }
}

/** The raw client, started and waiting for a line on stdin (for callers that watch it another way). */
export function startRawClient(port: number, steps: RawStep[], env: NodeJS.ProcessEnv = process.env): Child {
  return startChild(process.execPath, ['-e', RAW_CLIENT, String(port), JSON.stringify(steps)], { env });
}
