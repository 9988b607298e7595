// One service: incoming (server) and outgoing (client) sides, each with its
// RED figures, charts over time, latency heatmap and histogram, and the table
// of operations (routes, or calls per peer), and its top queries and commands
// (to databases, caches and brokers, by db.query.summary or span name) with
// their RED. Clicking an operation narrows the charts to it. With the profiler
// running, each operation links to the service's CPU profile over the same
// time window (a slow route → what the service's CPU did meanwhile).
import { useMemo } from 'preact/hooks';
import type { OperationView, ServiceView, SideView } from '../../../store/views.js';
import { Heatmap, LatencyHistogram, type Line, TimeChart } from '../components/charts.js';
import { Empty, PageHeader, Stat, WindowPicker } from '../components/layout.js';
import { type Column, SortTable } from '../components/sort-table.js';
import { errorClass, fmtMs, fmtNumber, fmtPercent, fmtRate } from '../format.js';
import { useApi } from '../live.js';
import { type Route, href, navigate } from '../router.js';

const RANGES: Array<[number, string]> = [
  [900_000, '15 min'],
  [3_600_000, '1 h'],
];

/** Same key as the store's opKey(side, name, peer). */
function opKey(side: string, op: { name: string; peer: string | null }): string {
  return `${side}\0${op.peer ?? ''}\0${op.name}`;
}

export function ServicePage({ route, profiling = false }: { route: Route; profiling?: boolean }) {
  const name = route.parts[1] ?? '';
  const q = route.query;
  const side = q.get('side') === 'client' ? 'client' : 'server';
  const windowMs = Number(q.get('window')) || 300_000;
  const rangeMs = Number(q.get('range')) || 900_000;
  const operation = q.get('op') ?? '';
  const set = (changes: Record<string, string | number | undefined>) =>
    navigate(href(['services', name], { side, window: windowMs, range: rangeMs, op: operation, ...changes }), true);
  const api = useApi<ServiceView>(`/api/services/${encodeURIComponent(name)}?window=${windowMs}&range=${rangeMs}${operation ? `&operation=${encodeURIComponent(operation)}` : ''}`);
  const v = api.data;

  if (api.error && !v) return <Empty title={`No service "${name}"`}>{<p>{api.error}. It may have stopped, or not sent traffic in the last hour.</p>}</Empty>;
  if (!v) return <Empty title="Loading…" />;
  const view = side === 'client' ? v.client : v.server;
  const otherSide = side === 'client' ? v.server : v.client;
  const inst = v.instances;
  return (
    <>
      <PageHeader
        title={
          <span>
            <a href="#/" class="crumb">
              Services
            </a>{' '}
            / {v.name}
          </span>
        }
        subtitle={inst.map((i) => `${i.executable} (pid ${i.pid})`).join(' · ')}
      >
        <WindowPicker value={windowMs} onChange={(ms) => set({ window: ms })} />
        <a class="button" href={href(['traces'], { service: v.name, side })}>
          Traces →
        </a>
        {profiling && (
          <a class="button" href={profileHref(v)} title="the CPU profile of this service over the same window">
            CPU profile →
          </a>
        )}
      </PageHeader>
      <div class="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={side === 'server'} class={side === 'server' ? 'on' : ''} disabled={!v.server} onClick={() => set({ side: 'server', op: undefined })}>
          Incoming <span class="tab-sub">{v.server ? fmtRate(v.server.summary.rate) : 'none'}</span>
        </button>
        <button type="button" role="tab" aria-selected={side === 'client'} class={side === 'client' ? 'on' : ''} disabled={!v.client} onClick={() => set({ side: 'client', op: undefined })}>
          Outgoing <span class="tab-sub">{v.client ? fmtRate(v.client.summary.rate) : 'none'}</span>
        </button>
      </div>
      {view ? (
        <SideSection view={view} v={v} profiling={profiling} operation={operation} rangeMs={rangeMs} onOperation={(op) => set({ op })} onRange={(ms) => set({ range: ms })} />
      ) : (
        <Empty title={side === 'client' ? 'No outgoing calls' : 'No incoming requests'}>
          <p>{otherSide ? `This service only ${side === 'client' ? 'serves requests' : 'makes calls'} in the last hour.` : 'No traffic in the last hour.'}</p>
        </Empty>
      )}
    </>
  );
}

/** The service's CPU profile over the window the page's figures cover (named after an operation when given). */
function profileHref(v: ServiceView, operation?: string): string {
  return href(['profiling'], { service: v.name, from: v.nowMs - v.windowMs, to: v.nowMs, route: operation });
}

function SideSection(props: { view: SideView; v: ServiceView; profiling: boolean; operation: string; rangeMs: number; onOperation: (op: string | undefined) => void; onRange: (ms: number) => void }) {
  const { view, v, operation } = props;
  const s = view.summary;
  const tl = view.timeline;
  const focused = view.operations.find((o) => opKey(view.side, o) === operation);
  const rateLines = useMemo<Line[]>(
    () => [
      { label: 'requests/s', values: tl.rate, color: '--accent', fill: true },
      { label: 'errors/s', values: tl.errorRate, color: '--bad' },
    ],
    [tl],
  );
  const latencyLines = useMemo<Line[]>(
    () => [
      { label: 'p50', values: tl.p50Ms, color: '--c-p50' },
      { label: 'p95', values: tl.p95Ms, color: '--c-p95' },
      { label: 'p99', values: tl.p99Ms, color: '--c-p99' },
    ],
    [tl],
  );
  const httpOps = view.operations.filter((o) => o.kind === 'http');
  // Slow routes (p95 within 75 % of the slowest route's) get their profile link highlighted.
  const slowP95 = 0.75 * Math.max(0, ...httpOps.map((o) => o.p95Ms ?? 0)) || Infinity;
  const queries = view.operations.filter((o) => o.kind !== 'http');
  const queryColumns: Array<Column<OperationView>> = [
    { key: 'system', label: 'System', value: (o) => o.system, render: (o) => <span class={`badge kind-${o.kind}`}>{o.system}</span> },
    { key: 'name', label: 'Query / command', value: (o) => o.name, render: (o) => <span class="mono">{o.name}</span> },
    ...(view.side === 'client'
      ? [{ key: 'peer', label: 'Server', value: (o: OperationView) => o.peerService ?? o.peer, render: (o: OperationView) => <span class="mono muted">{o.peerService ?? o.peer}</span> } satisfies Column<OperationView>]
      : []),
    { key: 'count', label: 'Count', numeric: true, descFirst: true, value: (o) => o.count, render: (o) => fmtNumber(o.count) },
    { key: 'rate', label: 'Rate', numeric: true, descFirst: true, value: (o) => o.rate, render: (o) => fmtRate(o.rate) },
    { key: 'err', label: 'Errors', numeric: true, descFirst: true, value: (o) => o.errorRatio, render: (o) => <span class={`pill ${errorClass(o.errorRatio)}`}>{fmtPercent(o.errorRatio)}</span> },
    { key: 'p50', label: 'p50', numeric: true, descFirst: true, value: (o) => o.p50Ms, render: (o) => fmtMs(o.p50Ms) },
    { key: 'p95', label: 'p95', numeric: true, descFirst: true, value: (o) => o.p95Ms, render: (o) => fmtMs(o.p95Ms) },
    { key: 'p99', label: 'p99', numeric: true, descFirst: true, value: (o) => o.p99Ms, render: (o) => fmtMs(o.p99Ms) },
  ];
  const columns: Array<Column<OperationView>> = [
    ...(view.side === 'client'
      ? [
          {
            key: 'peer',
            label: 'Peer',
            value: (o: OperationView) => o.peerService ?? o.peer,
            render: (o: OperationView) =>
              o.peerService ? (
                <span>
                  <a href={href(['services', o.peerService])} onClick={(e) => e.stopPropagation()}>
                    {o.peerService}
                  </a>{' '}
                  <span class="mono muted">{o.peer}</span>
                </span>
              ) : (
                <span class="mono">{o.peer}</span>
              ),
          } satisfies Column<OperationView>,
        ]
      : []),
    { key: 'name', label: view.side === 'client' ? 'Call' : 'Route', value: (o) => o.name, render: (o) => <span class="mono">{o.name}</span> },
    { key: 'rate', label: 'Requests', numeric: true, descFirst: true, value: (o) => o.rate, render: (o) => fmtRate(o.rate) },
    { key: 'err', label: 'Errors', numeric: true, descFirst: true, value: (o) => o.errorRatio, render: (o) => <span class={`pill ${errorClass(o.errorRatio)}`}>{fmtPercent(o.errorRatio)}</span> },
    { key: 'p50', label: 'p50', numeric: true, descFirst: true, value: (o) => o.p50Ms, render: (o) => fmtMs(o.p50Ms) },
    { key: 'p95', label: 'p95', numeric: true, descFirst: true, value: (o) => o.p95Ms, render: (o) => fmtMs(o.p95Ms) },
    { key: 'p99', label: 'p99', numeric: true, descFirst: true, value: (o) => o.p99Ms, render: (o) => fmtMs(o.p99Ms) },
    {
      key: 'traces',
      label: '',
      value: () => null,
      render: (o) => (
        <span class="row-links">
          <a href={href(['traces'], { service: v.name, side: view.side, operation: o.name })} onClick={(e) => e.stopPropagation()} class="row-link">
            spans
          </a>
          <a href={href(['trace'], { service: v.name, operation: o.name })} onClick={(e) => e.stopPropagation()} class="row-link">
            traces
          </a>
          {props.profiling && (
            <a
              href={profileHref(v, o.name)}
              onClick={(e) => e.stopPropagation()}
              class={`row-link${(o.p95Ms ?? 0) >= slowP95 ? ' slow' : ''}`}
              title={`${v.name}'s CPU profile over the same ${v.windowMs / 60_000} min`}
              data-profile-link={o.name}
            >
              CPU profile
            </a>
          )}
        </span>
      ),
    },
  ];
  return (
    <>
      <div class="stats">
        <Stat label="Requests" value={fmtRate(s.rate)} sub={`${fmtNumber(s.count)} in ${v.windowMs / 60_000} min`} />
        <Stat label="Errors" value={fmtPercent(s.errorRatio)} sub={`${fmtNumber(s.errors)} ${view.side === 'client' ? 'failed calls' : 'failed requests'}`} tone={errorClass(s.errorRatio)} />
        <Stat label="p50" value={fmtMs(s.p50Ms)} sub={`mean ${fmtMs(s.meanMs)}`} />
        <Stat label="p95" value={fmtMs(s.p95Ms)} />
        <Stat label="p99" value={fmtMs(s.p99Ms)} />
      </div>
      <div class="section-head">
        <h2>
          Over time{' '}
          {focused && (
            <span class="focus-chip">
              {focused.peer ? `${focused.peer} ` : ''}
              {focused.name}
              <button type="button" class="chip-x" title="Show the whole service" onClick={() => props.onOperation(undefined)}>
                ×
              </button>
            </span>
          )}
        </h2>
        <WindowPicker value={props.rangeMs} onChange={props.onRange} options={RANGES} label="chart range" />
      </div>
      <div class="grid2">
        <div class="card">
          <TimeChart title="Throughput" t={tl.t} lines={rateLines} format={(x) => `${fmtNumber(x)}/s`} />
        </div>
        <div class="card">
          <TimeChart title="Latency" t={tl.t} lines={latencyLines} format={(x) => fmtMs(x)} log />
        </div>
        <div class="card">
          <Heatmap t={tl.t} stepMs={tl.stepMs} boundsMs={v.boundsMs} counts={tl.heatmap} />
        </div>
        <div class="card">
          <LatencyHistogram boundsMs={v.boundsMs} counts={view.histogram} />
        </div>
      </div>
      {queries.length > 0 && (
        <>
          <div class="section-head">
            <h2>{view.side === 'client' ? 'Top queries and commands' : 'Queries and commands served'}</h2>
            <span class="hint">databases, caches and brokers, by query summary; click a row to chart it alone</span>
          </div>
          <div class="card flush">
            <SortTable
              id="queries-table"
              rows={queries}
              columns={queryColumns}
              rowKey={(o) => opKey(view.side, o)}
              initial={{ key: 'count', desc: true }}
              onRowClick={(o) => props.onOperation(opKey(view.side, o) === operation ? undefined : opKey(view.side, o))}
              rowClass={(o) => (opKey(view.side, o) === operation ? 'selected' : '')}
            />
          </div>
        </>
      )}
      {(httpOps.length > 0 || queries.length === 0) && (
        <>
          <div class="section-head">
            <h2>{view.side === 'client' ? 'Outgoing calls' : 'Routes'}</h2>
            <span class="hint">click a row to chart it alone</span>
          </div>
          <div class="card flush">
            <SortTable
              id="operations-table"
              rows={httpOps}
              columns={columns}
              rowKey={(o) => opKey(view.side, o)}
              initial={{ key: 'rate', desc: true }}
              onRowClick={(o) => props.onOperation(opKey(view.side, o) === operation ? undefined : opKey(view.side, o))}
              rowClass={(o) => (opKey(view.side, o) === operation ? 'selected' : '')}
            />
          </div>
        </>
      )}
    </>
  );
}
