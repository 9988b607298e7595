// The stream platform, exact, on this kernel: redis-server on a port, `waggle
// run` watching every process, redis-cli piping 100 SET and 50 GET, and
// exactly those counts for service_name="redis-cli" in
// db_client_operation_duration_seconds_count on the agent's /metrics.
import { WAGGLE, doctorSaysOff, fail, get, kernelLacks, off, ok, run, start, tail, until } from '../lib.mjs';

const REDIS_PORT = 8479;
const LISTEN = '127.0.0.1:9400';
const METRIC = 'db_client_operation_duration_seconds_count';
const NAME = 'smoke:redis-cli-counts';

/** Sum of the metric's samples for redis-cli's `op` (every instance). */
function count(text, op) {
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${METRIC}{`) && line.includes('service_name="redis-cli"') && line.includes(`db_operation_name="${op}"`)) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

export default {
  name: 'protocols',
  timeoutMs: 240_000,
  async run(ctx) {
    const why = doctorSaysOff(ctx, ['tracepoint', 'tp_btf', 'ringbuf']);
    if (why) return { [NAME]: off(why) };
    const redis = start('redis-server', ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { cwd: '/tmp' });
    let agent;
    try {
      await until('redis-server did not answer', async () => (await run('redis-cli', ['-p', String(REDIS_PORT), 'PING'], 10_000)).out.includes('PONG'), 60_000);
      agent = start(process.execPath, [...WAGGLE, 'run', '--listen', LISTEN]);
      const exitedEarly = agent.exited.then((r) => `agent exited ${r.signal ?? r.code}: ${tail(agent.err)}`);
      const ready = until('agent /readyz never said ready', async () => (await get(`http://${LISTEN}/readyz`)).status === 200, 150_000, 500);
      const early = await Promise.race([ready.then(() => undefined), exitedEarly]);
      if (early) return { [NAME]: kernelLacks(early) ? off(kernelLacks(early)) : fail(early) };
      const readyz = (await get(`http://${LISTEN}/readyz`)).body;
      if (/^http off/m.test(readyz)) {
        const reason = readyz.split('\n').find((l) => l.startsWith('http off')) ?? '';
        return { [NAME]: kernelLacks(reason) ? off(kernelLacks(reason)) : fail(reason) };
      }
      const commands = [...Array.from({ length: 100 }, (_, i) => `SET k${i} v${i}`), ...Array.from({ length: 50 }, (_, i) => `GET k${i}`)].join('\n') + '\n';
      const cli = start('redis-cli', ['-p', String(REDIS_PORT)], { stdio: ['pipe', 'pipe', 'pipe'] });
      cli.proc.stdin?.end(commands);
      await cli.exited;
      let sets = 0;
      let gets = 0;
      try {
        await until(`redis-cli's SET/GET counts stayed below 100/50`, async () => {
          const body = (await get(`http://${LISTEN}/metrics`)).body;
          sets = count(body, 'SET');
          gets = count(body, 'GET');
          return sets >= 100 && gets >= 50;
        }, 30_000, 500);
      } catch {
        return { [NAME]: fail(`100 SET and 50 GET sent; counted ${sets} and ${gets}; agent: ${tail(agent.err, 3)}`) };
      }
      await new Promise((r) => setTimeout(r, 2_000));
      const body = (await get(`http://${LISTEN}/metrics`)).body;
      sets = count(body, 'SET');
      gets = count(body, 'GET');
      return { [NAME]: sets === 100 && gets === 50 ? ok() : fail(`100 SET and 50 GET sent; counted ${sets} and ${gets}`) };
    } finally {
      await agent?.stop();
      await redis.stop(2_000);
    }
  },
};
