// Whole traces (spans the agent linked across threads and local connections,
// src/telemetry/trace-linker.ts): a list of recent traces, filtered by service,
// callee (a service map edge) and operation (a route), and one trace as a
// waterfall across services, indented by parent.
import type { TraceListItem, TraceView } from '../../../store/views.js';
import { Empty, PageHeader, Stat } from '../components/layout.js';
import { type Column, SortTable } from '../components/sort-table.js';
import { fmtMs, fmtTime } from '../format.js';
import { useApi } from '../live.js';
import { type Route, href, navigate } from '../router.js';

interface ListAnswer {
  nowMs: number;
  traces: TraceListItem[];
}

export function TraceListPage({ route }: { route: Route }) {
  const q = route.query;
  const params = new URLSearchParams();
  for (const f of ['service', 'calls', 'operation'] as const) if (q.get(f)) params.set(f, q.get(f)!);
  params.set('limit', '200');
  const api = useApi<ListAnswer>(`/api/traces?${params}`);
  const traces = api.data?.traces ?? [];
  const filter = [q.get('service') && `service ${q.get('service')}`, q.get('calls') && `calling ${q.get('calls')}`, q.get('operation') && `operation “${q.get('operation')}”`].filter(Boolean).join(', ');
  const columns: Array<Column<TraceListItem>> = [
    { key: 'time', label: 'Time', value: (t) => t.startMs, descFirst: true, render: (t) => <span class="mono muted">{fmtTime(t.startMs)}</span>, width: '8.5em' },
    { key: 'root', label: 'Root', value: (t) => `${t.service} ${t.name}`, render: (t) => <span>{t.service} <span class="mono">{t.name}</span></span> },
    { key: 'services', label: 'Services', value: (t) => t.services.join(' '), render: (t) => <span class="muted">{t.services.join(' → ')}</span> },
    { key: 'spans', label: 'Spans', numeric: true, descFirst: true, value: (t) => t.spanCount },
    { key: 'errors', label: 'Errors', numeric: true, descFirst: true, value: (t) => t.errors, render: (t) => <span class={`status ${t.errors ? 'bad' : 'ok'}`}>{t.errors}</span> },
    { key: 'duration', label: 'Duration', numeric: true, descFirst: true, value: (t) => t.durationMs, render: (t) => fmtMs(t.durationMs) },
  ];
  return (
    <>
      <PageHeader title="Whole traces" subtitle={`Spans joined into traces by the agent (same thread, local connections, traceparent)${filter ? ` · ${filter}` : ''}.`}>
        <a class="button ghost" href="#/traces">
          Spans
        </a>
      </PageHeader>
      {api.error && <div class="notice bad">{api.error}</div>}
      {!api.data ? (
        <Empty title="Loading…" />
      ) : (
        <div class="card flush">
          <SortTable
            id="traces-table"
            rows={traces}
            columns={columns}
            rowKey={(t) => t.traceId}
            initial={{ key: 'time', desc: true }}
            onRowClick={(t) => navigate(href(['trace', t.traceId]))}
            rowClass={(t) => (t.errors ? 'error-row' : '')}
            empty="No trace matches: traces appear a few seconds after their requests, when trace linking (traces.link) is on."
          />
        </div>
      )}
    </>
  );
}

export function TracePage({ route }: { route: Route }) {
  const id = route.parts[1] ?? '';
  const api = useApi<TraceView>(`/api/traces/${encodeURIComponent(id)}`, { paused: true });
  if (api.loading) return <Empty title="Loading…" />;
  const t = api.data;
  if (!t) {
    return (
      <Empty title="This trace is no longer kept">
        <p>The agent keeps a bounded number of recent traces.</p>
        <p>
          <a href="#/trace">Back to traces</a>
        </p>
      </Empty>
    );
  }
  const services = [...new Set(t.spans.map((s) => s.service))];
  const t0 = t.startMs;
  const total = Math.max(0.001, t.durationMs);
  return (
    <>
      <PageHeader
        title={
          <span>
            <a href="#/trace" class="crumb">
              Whole traces
            </a>{' '}
            / <span class="mono">{t.traceId}</span>
          </span>
        }
        subtitle={`${t.spans.length} spans across ${services.join(', ')} · ${new Date(t.startMs).toLocaleString()}`}
      />
      <div class="stats">
        <Stat label="Duration" value={fmtMs(t.durationMs)} />
        <Stat label="Spans" value={String(t.spans.length)} sub={t.dropped ? `${t.dropped} not kept` : 'all kept'} />
        <Stat label="Services" value={String(services.length)} />
        <Stat label="Errors" value={String(t.spans.filter((s) => s.status === 'error').length)} tone={t.spans.some((s) => s.status === 'error') ? 'bad' : ''} />
      </div>
      <section class="card">
        <h2>Waterfall</h2>
        <div class="waterfall" id="trace-waterfall">
          {t.spans.map((s) => (
            <a key={s.spanId} href={href(['traces', s.spanId])} class={`wf-row ${s.status === 'error' ? 'bad' : ''}`} data-span-id={s.spanId} data-parent-id={s.parentSpanId ?? ''} data-depth={s.depth}>
              <span class="wf-label" style={{ paddingLeft: `${s.depth * 1.1}em` }}>
                <span class={`badge ${s.kind}`}>{s.kind}</span> {s.service} <span class="mono muted">{s.name}</span>
              </span>
              <span class="wf-track">
                <span class="wf-bar" style={{ left: `${((s.startMs - t0) / total) * 100}%`, width: `${Math.max(0.5, (s.durationMs / total) * 100)}%` }} />
              </span>
              <span class="wf-dur">{fmtMs(s.durationMs)}</span>
            </a>
          ))}
        </div>
      </section>
    </>
  );
}
