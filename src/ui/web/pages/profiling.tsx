// CPU profiles of the host's processes as a live flame graph: per service or
// process, over a chosen time range, with search and zoom, and the diff of the
// range against the one before it. Reads /api/profiling/* (the agent's
// continuous profiler, `waggle run --profile`). Linkable: #/profiling?service=NAME.
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
  const [rangeMs, setRangeMs] = useState(5 * 60_000);
  const [diff, setDiff] = useState(false);
  const [search, setSearch] = useState(route.query.get('search') ?? '');
  const [live, setLive] = useState(true);
  const [frozenEnd, setFrozenEnd] = useState(0);
  const to = live ? rangeEnd() : frozenEnd;
  const from = to - rangeMs;
  const targets = useApi<TargetsAnswer>(enabled ? `/api/profiling/targets?from=${from}&to=${to}` : null);
  const [kind, value] = target ? [target.slice(0, target.indexOf(':')), target.slice(target.indexOf(':') + 1)] : ['', ''];
  const q = new URLSearchParams({ from: String(from), to: String(to) });
  if (kind === 'service') q.set('service', value);
  if (kind === 'pid') q.set('pid', value);
  if (diff) {
    q.set('baseFrom', String(from - rangeMs));
    q.set('baseTo', String(from));
  }
  const flame = useApi<FlameAnswer>(enabled ? `/api/profiling/flame?${q}` : null, { paused: !live });
  const frequency = targets.data?.frequency ?? 19;
  // A sample stands for 1/frequency seconds of one CPU.
  const unit = (n: number) => `${fmtCount(n)} samples · ${(n / frequency).toFixed(1)} CPU-s`;
  const services = new Map<string, number>();
  for (const t of targets.data?.targets ?? []) services.set(t.service, (services.get(t.service) ?? 0) + t.samples);

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
        </select>
        <label>
          <input type="checkbox" checked={diff} onChange={(e) => setDiff((e.target as HTMLInputElement).checked)} /> diff with the range before
        </label>
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
          {diff && <Stat label="Baseline samples" value={fmtCount(tree.baseTotal ?? 0)} sub="the range before" />}
          <Stat label="Window" value={new Date(from).toLocaleTimeString()} sub={`to ${new Date(to).toLocaleTimeString()}`} />
        </div>
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
          {diff && <p style={{ fontSize: '12px', color: 'var(--muted)' }}>Red: a larger share of samples than in the range before; blue: smaller.</p>}
          <FlameGraph root={tree.root} total={tree.total} {...(diff ? { baseTotal: tree.baseTotal ?? 0 } : {})} search={search} unit={unit} />
        </>
      )}
    </>
  );
}
