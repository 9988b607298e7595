// A scripted HTTP/1 server whose write boundaries the test controls: a Node `net`
// server (a child process, so its pid is watched alone) that answers each request
// for /r/<case>/… with that case's list of writes, each its own write() syscall,
// with a pause between them so the peer's reads see the splits too.
import { type Child, startChild } from '../../../helpers/process.js';

export interface Script {
  /** Response bytes (latin1), one write() each, in order. */
  writes: string[];
  /** Close the connection after the last write. */
  close?: boolean;
  /** Wait until this many requests are queued, then answer them all with `writes` (pipelining). */
  batch?: number;
  /** Pause between writes for this script (default: the server's). */
  pauseMs?: number;
}

export interface RawServer {
  child: Child;
  pid: number;
  port: number;
  stop(): void;
}

// Requests are framed by their head and Content-Length or chunked body; a head announcing
// "Expect: 100-continue" whose body has not come yet gets "100 Continue" at once,
// as real servers do. Unknown cases answer 404 with an empty body.
const SCRIPT = String.raw`
const net = require('net');
const scripts = JSON.parse(process.argv[1]);
const pauseMs = Number(process.argv[2]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const server = net.createServer((sock) => {
  sock.setNoDelay(true);
  sock.on('error', () => {});
  let buf = Buffer.alloc(0);
  let continued = false;
  const queue = [];
  let busy = false;
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const i = buf.indexOf('\r\n\r\n');
      if (i < 0) break;
      const head = buf.subarray(0, i).toString('latin1');
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      let n = cl ? Number(cl[1]) : 0;
      if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
        // A chunked body ends with its last chunk and trailers (enough for the tests' bodies).
        const rest = buf.subarray(i + 2).toString('latin1');
        const last = /\r\n0(;[^\r]*)?\r\n/.exec(rest);
        const end = last ? rest.indexOf('\r\n\r\n', last.index + last[0].length - 2) : -1;
        n = end < 0 ? Infinity : end + 2;
      }
      if (buf.length < i + 4 + n) {
        if (!continued && /\r\nexpect:\s*100-continue/i.test(head)) {
          continued = true;
          sock.write('HTTP/1.1 100 Continue\r\n\r\n');
        }
        break;
      }
      continued = false;
      buf = buf.subarray(i + 4 + n);
      queue.push(head.split(' ')[1] || '');
    }
    pump();
  });
  async function pump() {
    if (busy) return;
    busy = true;
    while (queue.length > 0 && !sock.destroyed) {
      const s = scripts[queue[0].split('?')[0].split('/')[2]];
      if (!s) {
        queue.shift();
        sock.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
        continue;
      }
      const batch = s.batch || 1;
      if (queue.length < batch) break;
      queue.splice(0, batch);
      for (let k = 0; k < s.writes.length; k++) {
        if (k > 0) await sleep(s.pauseMs ?? pauseMs);
        sock.write(Buffer.from(s.writes[k], 'latin1'));
      }
      if (s.close) {
        sock.end();
        break;
      }
    }
    busy = false;
  }
});
server.listen(0, '127.0.0.1', () => console.log('port', server.address().port));
`;

export async function startRawServer(scripts: Record<string, Script>, pauseMs = 5, env: NodeJS.ProcessEnv = process.env): Promise<RawServer> {
  const child = startChild(process.execPath, ['-e', SCRIPT, JSON.stringify(scripts), String(pauseMs)], { env });
  try {
    await child.waitForOutput(/port (\d+)/);
  } catch (e) {
    child.kill();
    throw e;
  }
  const port = Number(/port (\d+)/.exec(child.output())![1]);
  return { child, pid: child.pid, port, stop: () => child.kill() };
}
