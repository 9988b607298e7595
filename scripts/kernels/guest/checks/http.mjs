// HTTP/1 server telemetry, exact: python's http.server on a port, `waggle run
// --open-port` selecting it, N curl requests, and N in
// http_server_request_duration_seconds_count on the agent's /metrics.
import { release } from 'node:os';
import { PYTHON, WAGGLE, doctorSaysOff, fail, get, kernelLacks, off, ok, run, start, tail, until } from '../lib.mjs';

const REQUESTS = 20;
const APP_PORT = 8471;
const LISTEN = '127.0.0.1:9400';
const METRIC = 'http_server_request_duration_seconds_count';

/** Sum of the metric's samples (every route, method, status). */
function count(text) {
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${METRIC}{`) || line.startsWith(`${METRIC} `)) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  return n;
}

/**
 * Debian's kernels from 6.5 have the socket tracepoints (6.3+) and send
 * sendfile's bytes through sock_sendmsg; before, fexit on the inet layer where
 * doctor's fentry probe runs, else the syscall exits.
 */
function expectedHooks(ctx) {
  const [major, minor] = release().split('.').map(Number);
  if (major > 6 || (major === 6 && minor >= 5)) return 'socket';
  return doctorSaysOff(ctx, ['fentry']) ? 'syscalls' : 'fexit';
}

/** The reason the agent gave for turning a feature off ("feature http is off"), if it did. */
function featureOff(stderr, feature) {
  for (const line of stderr.split('\n')) {
    try {
      const m = JSON.parse(line);
      if (m.feature === feature && typeof m.reason === 'string' && /is off/.test(m.msg ?? '')) return m.reason;
    } catch {}
  }
  return undefined;
}

export default {
  name: 'http',
  timeoutMs: 240_000,
  async run(ctx) {
    const why = doctorSaysOff(ctx, ['tracepoint', 'tp_btf', 'ringbuf']);
    if (why) return { 'smoke:http1-server-counts': off(why) };
    const app = start(PYTHON, ['-m', 'http.server', '--bind', '127.0.0.1', String(APP_PORT)], { cwd: '/usr/share/doc' });
    let agent;
    try {
      await until('python http.server did not answer', async () => (await get(`http://127.0.0.1:${APP_PORT}/`)).status === 200, 60_000);
      agent = start(process.execPath, [...WAGGLE, 'run', '--open-port', String(APP_PORT), '--listen', LISTEN]);
      const exitedEarly = agent.exited.then((r) => `agent exited ${r.signal ?? r.code}: ${tail(agent.err)}`);
      const ready = until('agent /readyz never said ready', async () => (await get(`http://${LISTEN}/readyz`)).status === 200, 150_000, 500);
      const early = await Promise.race([ready.then(() => undefined), exitedEarly]);
      // The capture refused for something this kernel lacks (bpf_loop before 5.17…): off, with that reason.
      if (early) return { 'smoke:http1-server-counts': kernelLacks(early) ? off(kernelLacks(early)) : fail(early) };
      // The agent runs on without a feature the kernel refused, and says so on stderr (pino JSON).
      const refusal = featureOff(agent.err, 'http');
      if (refusal !== undefined) {
        const lacks = kernelLacks(refusal);
        return { 'smoke:http1-server-counts': lacks ? off(lacks) : fail(`the agent turned http off: ${refusal}`) };
      }
      for (let i = 0; i < REQUESTS; i++) {
        const r = await run('curl', ['-s', '-S', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', `http://127.0.0.1:${APP_PORT}/?i=${i}`], 20_000);
        if (r.out !== '200') return { 'smoke:http1-server-counts': fail(`curl #${i} got ${r.out || r.err.trim()}`) };
      }
      let seen = 0;
      try {
        await until(`${METRIC} stayed below ${REQUESTS}`, async () => (seen = count((await get(`http://${LISTEN}/metrics`)).body)) >= REQUESTS, 30_000, 500);
      } catch (e) {
        const late = featureOff(agent.err, 'http');
        if (late !== undefined && kernelLacks(late)) return { 'smoke:http1-server-counts': off(kernelLacks(late)) };
        return { 'smoke:http1-server-counts': fail(`${REQUESTS} requests, ${METRIC} = ${seen} after 30 s; agent: ${late ? `http off: ${late}` : tail(agent.err, 3)}`) };
      }
      // A little longer: more than N would be a double count.
      await new Promise((r) => setTimeout(r, 2_000));
      seen = count((await get(`http://${LISTEN}/metrics`)).body);
      // Which hooks saw the bytes (the http feature's note on /readyz): the socket tracepoints from 6.5, fexit or the syscall exits before.
      const note = /^http up: (.*)$/m.exec((await get(`http://${LISTEN}/readyz`)).body)?.[1] ?? 'no note';
      const hooks = /^bytes seen on the socket tracepoints/.test(note) ? 'socket' : /^bytes seen at fexit/.test(note) ? 'fexit' : /^bytes seen on the syscall exits/.test(note) ? 'syscalls' : 'unknown';
      const expected = expectedHooks(ctx);
      return {
        'smoke:http1-server-counts': seen === REQUESTS ? ok() : fail(`${REQUESTS} requests, ${METRIC} = ${seen}`),
        [`smoke:http1-hooks-${hooks}`]: hooks === expected ? ok() : fail(`expected the ${expected} hooks on ${release()}; the http feature says: ${note}`),
      };
    } finally {
      await agent?.stop();
      await app.stop(2_000);
    }
  },
};
