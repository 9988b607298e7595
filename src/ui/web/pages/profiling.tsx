// CPU profiles of the host's processes as a live flame graph: per service or
// process, over a chosen time range, with search and zoom, and the diff of the
// range against another one (the range before, or one N minutes earlier).
// Reads /api/profiling/* (the agent's continuous profiler, `waggle run
// --profile`). Linkable: #/profiling?service=NAME[&from=MS&to=MS][&route=R]
// (a fixed range, as the service page's links to a route's time window give),
// &baseFrom=MS&baseTo=MS (a fixed baseline), &search=TEXT.
import { useState } from 'preact/hooks';
import { FlameGraph, type FlameNode } from '../components/flame-graph.js';
import { Empty, PageHeader, Stat } from '../components/layout.js';
import { fmtCount } from '../format.js';
import { useApi } from '../live.js';
import { useRoute } from '../router.js';

interface Target {
  service: string;
  pid: number;
  samples: number;
}

interface TargetsAnswer {
  nowMs: number;
  frequency: number;
  span: { from: number; to: number } | null;
  targets: Target[];
}

interface FlameAnswer {
  frequency: number;
  tree: { root: FlameNode; total: number; baseTotal?: number; pruned: number };
}

const RANGES: Array<[number, string]> = [
  [60_000, 'last 1 min'],
  [5 * 60_000, 'last 5 min'],
  [15 * 60_000, 'last 15 min'],
];

/** Baselines: how far before the compared range the baseline starts (0: no diff). */
const BASELINES: Array<[string, string]> = [
  ['', 'no diff'],
  ['before', 'diff with the range before'],
  ['60000', 'diff with 1 min earlier'],
  ['300000', 'diff with 5 min earlier'],
  ['600000', 'diff with 10 min earlier'],
];

const clock = (ms: number) => new Date(ms).toLocaleTimeString();

/** A [from, to] pair from the URL, when both are there and make sense. */
function urlRange(q: URLSearchParams, fromKey: string, toKey: string): { from: number; to: number } | undefined {
  const from = Number(q.get(fromKey));
  const to = Number(q.get(toKey));
  return q.has(fromKey) && q.has(toKey) && Number.isInteger(from) && Number.isInteger(to) && from > 0 && to > from ? { from, to } : undefined;
}

/** Ranges end on a 5 s boundary, so the URL (and the answer) changes once per drain, not per tick. */
function rangeEnd(): number {
  return Math.floor(Date.now() / 5000) * 5000 + 5000;
}

export function ProfilingPage({ enabled }: { enabled: boolean }) {
  const route = useRoute();
  const [target, setTarget] = useState(() => {
    const pid = route.query.get('pid');
    const service = route.query.get('service');
    return pid ? `pid:${pid}` : service ? `service:${service}` : '';
  });
  // A range given by the URL (a link from a service's route) starts frozen on it.
  const [given] = useState(() => urlRange(route.query, 'from', 'to'));
  const [givenBase] = useState(() => urlRange(route.query, 'baseFrom', 'baseTo'));
  const [fromRoute] = useState(() => route.query.get('route') ?? '');
  const [rangeMs, setRangeMs] = useState(given ? given.to - given.from : 5 * 60_000);
  const [baseline, setBaseline] = useState(givenBase ? 'given' : '');
  const [search, setSearch] = useState(route.query.get('search') ?? '');
  const [live, setLive] = useState(!given);
  const [frozenEnd, setFrozenEnd] = useState(given?.to ?? 0);
  const to = live ? rangeEnd() : frozenEnd;
  const from = to - rangeMs;
  const targets = useApi<TargetsAnswer>(enabled ? `/api/profiling/targets?from=${from}&to=${to}` : null);
  const [kind, value] = target ? [target.slice(0, target.indexOf(':')), target.slice(target.indexOf(':') + 1)] : ['', ''];
  const q = new URLSearchParams({ from: String(from), to: String(to) });
  if (kind === 'service') q.set('service', value);
  if (kind === 'pid') q.set('pid', value);
  const base = baseline === 'given' && givenBase ? givenBase : baseline === 'before' ? { from: from - rangeMs, to: from } : baseline ? { from: from - Number(baseline), to: to - Number(baseline) } : undefined;
  const diff = base !== undefined;
  if (base) {
    q.set('baseFrom', String(base.from));
    q.set('baseTo', String(base.to));
  }
  const flame = useApi<FlameAnswer>(enabled ? `/api/profiling/flame?${q}` : null, { paused: !live });
  const frequency = targets.data?.frequency ?? 19;
  // A sample stands for 1/frequency seconds of one CPU.
  const unit = (n: number) => `${fmtCount(n)} samples · ${(n / frequency).toFixed(1)} CPU-s`;
  const services = new Map<string, number>();
  for (const t of targets.data?.targets ?? []) services.set(t.service, (services.get(t.service) ?? 0) + t.samples);
  const kept = targets.data?.span;

  if (!enabled) {
    return (
      <>
        <PageHeader title="Profiling" subtitle="CPU profiles of the host's processes, as flame graphs." />
        <Empty title="CPU profiling is not running">
          <p>
            Start the agent with <code>waggle run --profile</code> (or <code>profiling.enabled: true</code>) to sample every process's CPU stacks; they appear here as
            live flame graphs, and as pprof at <code>/debug/pprof/profile</code>.
          </p>
        </Empty>
      </>
    );
  }
  const tree = flame.data?.tree;
  return (
    <>
      <PageHeader title="Profiling" subtitle={`CPU stacks of every process, sampled at ${frequency} Hz per CPU.`} />
      {given && fromRoute && kind === 'service' && (
        <p class="hint" data-testid="route-context">
          {value}'s CPU while its route <span class="mono">{fromRoute}</span> was measured ({clock(given.from)}–{clock(given.to)}). The samples are the whole service's: CPU
          time is not tied to requests.
        </p>
      )}
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: '10px', alignItems: 'center', marginBottom: '12px' }}>
        <select value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)} aria-label="service or process">
          <option value="">all processes</option>
          <optgroup label="services">
            {[...services.entries()].sort((a, b) => b[1] - a[1]).map(([s, n]) => (
              <option value={`service:${s}`}>
                {s} ({fmtCount(n)})
              </option>
            ))}
          </optgroup>
          <optgroup label="processes">
            {(targets.data?.targets ?? []).slice(0, 100).map((t) => (
              <option value={`pid:${t.pid}`}>
                {t.service} · pid {t.pid} ({fmtCount(t.samples)})
              </option>
            ))}
          </optgroup>
          {kind === 'service' && !services.has(value) && <option value={target}>{value}</option>}
        </select>
        <select value={String(rangeMs)} onChange={(e) => setRangeMs(Number((e.target as HTMLSelectElement).value))} aria-label="time range">
          {RANGES.map(([ms, label]) => (
            <option value={String(ms)}>{label}</option>
          ))}
          {!RANGES.some(([ms]) => ms === rangeMs) && <option value={String(rangeMs)}>{Math.round(rangeMs / 1000)} s</option>}
        </select>
        <select value={baseline} onChange={(e) => setBaseline((e.target as HTMLSelectElement).value)} aria-label="baseline">
          {BASELINES.map(([v, label]) => (
            <option value={v}>{label}</option>
          ))}
          {givenBase && <option value="given">diff with {clock(givenBase.from)}–{clock(givenBase.to)}</option>}
        </select>
        <label>
          <input
            type="checkbox"
            checked={live}
            onChange={(e) => {
              const on = (e.target as HTMLInputElement).checked;
              if (!on) setFrozenEnd(rangeEnd());
              setLive(on);
            }}
          />{' '}
          live
        </label>
        <input type="search" placeholder="search frames" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} style={{ minWidth: '220px' }} />
      </div>
      {tree && (
        <div class="stats">
          <Stat label="Samples" value={fmtCount(tree.total)} sub={`${(tree.total / frequency).toFixed(1)} CPU-s`} />
          {base && <Stat label="Baseline samples" value={fmtCount(tree.baseTotal ?? 0)} sub={`${clock(base.from)} to ${clock(base.to)}`} />}
          <Stat label="Window" value={clock(from)} sub={`to ${clock(to)}`} />
        </div>
      )}
      {kept && from < kept.from && (
        <p class="hint" data-testid="range-before-kept">
          Profiles are kept from {clock(kept.from)} on; the part of the range before that has no samples.
        </p>
      )}
      {flame.error && <Empty title="Could not load the profile">{flame.error}</Empty>}
      {!tree ? (
        <Empty title="Loading…" />
      ) : tree.total === 0 && !(diff && tree.baseTotal) ? (
        <Empty title="No samples in this range">
          <p>Samples arrive every 5 seconds; a process that used no CPU has none.</p>
        </Empty>
      ) : (
        <>
          {diff && <p style={{ fontSize: '12px', color: 'var(--muted)' }}>Red: a larger share of samples than in the baseline; blue: smaller.</p>}
          <FlameGraph root={tree.root} total={tree.total} {...(diff ? { baseTotal: tree.baseTotal ?? 0 } : {})} search={search} unit={unit} />
        </>
      )}
    </>
  );
}
