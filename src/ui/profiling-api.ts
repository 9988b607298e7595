// The profiling page's JSON API: which services/processes have samples, and
// a flame graph tree (or the diff of two ranges) for one of them. Served only
// when the profiling feature runs; the profiler is read, never changed.
import type { ContinuousProfiler } from '../profiling/index.js';
import { flameTree } from '../profiling/index.js';
import { type AgentHttpServer, sendJson } from './http-server.js';
import { BadParam, intParam, stringParam } from './query-params.js';

const MAX_RANGE_MS = 24 * 3600_000;

export function registerProfilingRoutes(server: AgentHttpServer, profiler: ContinuousProfiler): void {
  const range = (url: URL, fromKey: string, toKey: string): { from: number; to: number } => {
    const now = Date.now();
    const to = intParam(url, toKey, { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? now;
    const from = intParam(url, fromKey, { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? to - 5 * 60_000;
    if (from >= to) throw new BadParam(fromKey, `a time before ${toKey}`, String(from));
    if (to - from > MAX_RANGE_MS) throw new BadParam(fromKey, `a range of at most ${MAX_RANGE_MS / 3600_000} h`, String(from));
    return { from, to };
  };
  const target = (url: URL) => {
    const service = stringParam(url, 'service', 512);
    const pid = intParam(url, 'pid', { min: 1, max: 2 ** 22 });
    return { ...(service !== undefined ? { service } : {}), ...(pid !== undefined ? { pid } : {}) };
  };
  const handle = (fn: (url: URL) => unknown) => (_req: unknown, res: Parameters<typeof sendJson>[0], url: URL) => {
    try {
      sendJson(res, 200, fn(url));
    } catch (e) {
      if (e instanceof BadParam) return sendJson(res, 400, { error: e.message, param: e.param });
      throw e;
    }
  };

  server.route('GET', '/api/profiling/targets', handle((url) => {
    const r = range(url, 'from', 'to');
    return { nowMs: Date.now(), span: profiler.span() ?? null, frequency: profiler.frequency, ...r, targets: profiler.targets(r.from, r.to).slice(0, 500) };
  }));

  server.route('GET', '/api/profiling/flame', handle((url) => {
    const r = range(url, 'from', 'to');
    const t = target(url);
    const profile = profiler.query({ ...r, ...t });
    const diff = url.searchParams.has('baseFrom');
    const base = diff ? profiler.query({ ...range(url, 'baseFrom', 'baseTo'), ...t }) : undefined;
    return { ...r, ...t, frequency: profiler.frequency, tree: flameTree(profile, base) };
  }));
}
