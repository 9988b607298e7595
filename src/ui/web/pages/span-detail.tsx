// One span: its timing, every attribute, the service identity that produced
// it, and the other kept spans of its trace as a waterfall.
import type { Span } from '../../../telemetry/span.js';
import type { SpanSummary } from '../../../store/views.js';
import { Empty, PageHeader, Stat } from '../components/layout.js';
import { fmtMs, fmtTime } from '../format.js';
import { useApi } from '../live.js';
import { type Route, href } from '../router.js';

interface SpanAnswer {
  span: Span;
  trace: SpanSummary[];
  /** The agent holds this span's whole trace (linked spans). */
  wholeTrace?: boolean;
}

/** A two-column table of names and values, as the span's attributes and resource are shown. */
function KeyValues({ rows, id }: { rows: ReadonlyArray<readonly [string, unknown]>; id?: string }) {
  return (
    <table class="kv" id={id}>
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td class="mono">{String(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SpanDetailPage({ route }: { route: Route }) {
  const id = route.parts[1] ?? '';
  // A span never changes: fetch it once, not on every tick.
  const api = useApi<SpanAnswer>(`/api/spans/${encodeURIComponent(id)}`, { paused: true });
  if (api.loading) return <Empty title="Loading…" />;
  if (!api.data) {
    return (
      <Empty title="This span is no longer kept">
        <p>The agent keeps a bounded number of recent spans; this one has been replaced by newer ones.</p>
        <p>
          <a href="#/traces">Back to traces</a>
        </p>
      </Empty>
    );
  }
  const { span, trace, wholeTrace } = api.data;
  const startMs = span.startTimeUnixNs / 1e6;
  const durMs = (span.endTimeUnixNs - span.startTimeUnixNs) / 1e6;
  const code = span.attributes['http.response.status_code'];
  const attrs = Object.entries(span.attributes).sort(([a], [b]) => a.localeCompare(b));
  const svc = span.service;
  const resource: Array<[string, string | number | undefined]> = [
    ['service.name', svc.name],
    ['service.namespace', svc.namespace],
    ['service.instance.id', svc.instanceId],
    ['process.pid', svc.pid],
    ['process.executable.name', svc.executableName],
    ['process.executable.path', svc.executablePath],
    ['process.command_line', svc.commandLine],
    ['container.id', svc.containerId],
  ];
  return (
    <>
      <PageHeader
        title={
          <span>
            <a href="#/traces" class="crumb">
              Traces
            </a>{' '}
            / <span class="mono">{span.name}</span>
          </span>
        }
        subtitle={`${span.kind} span of ${svc.name} · ${new Date(startMs).toLocaleString()}`}
      >
        {wholeTrace && (
          <a class="button" id="open-trace" href={href(['trace', span.traceId])}>
            Whole trace
          </a>
        )}
      </PageHeader>
      <div class="stats">
        <Stat label="Duration" value={fmtMs(durMs)} />
        <Stat label="Status" value={code !== undefined ? String(code) : span.status} sub={span.statusMessage ?? span.status} tone={span.status === 'error' ? 'bad' : ''} />
        <Stat label="Service" value={<a href={href(['services', svc.name])}>{svc.name}</a>} sub={`pid ${svc.pid}`} />
        <Stat label="Started" value={fmtTime(startMs)} sub={new Date(startMs).toLocaleDateString()} />
      </div>
      <div class="grid2 detail">
        <section class="card">
          <h2>Attributes</h2>
          <KeyValues id="span-attributes" rows={attrs} />
          <h2>Resource</h2>
          <KeyValues rows={resource.filter(([, v]) => v !== undefined && v !== '')} />
          <h2>Identifiers</h2>
          <table class="kv">
            <tbody>
              <tr>
                <th>trace id</th>
                <td class="mono">{span.traceId}</td>
              </tr>
              <tr>
                <th>span id</th>
                <td class="mono">{span.spanId}</td>
              </tr>
              {span.parentSpanId && (
                <tr>
                  <th>parent span id</th>
                  <td class="mono">{span.parentSpanId}</td>
                </tr>
              )}
            </tbody>
          </table>
        </section>
        <div class="stack">
          {trace.length > 1 && (
            <section class="card">
              <h2>Trace</h2>
              <Waterfall trace={trace} current={span.spanId} />
            </section>
          )}
          <section class="card">
            <h2>Same operation, recently</h2>
            <Similar span={span} />
          </section>
        </div>
      </div>
    </>
  );
}

/** Other kept spans of the same service and operation, to compare this one with. */
function Similar({ span }: { span: Span }) {
  const side = span.kind === 'client' || span.kind === 'producer' ? 'client' : 'server';
  const api = useApi<{ spans: SpanSummary[] }>(`/api/spans?service=${encodeURIComponent(span.service.name)}&side=${side}&operation=${encodeURIComponent(span.name)}&limit=25`, { paused: true });
  const spans = (api.data?.spans ?? []).filter((s) => s.name === span.name);
  if (!api.data) return <p class="muted">Loading…</p>;
  if (spans.length <= 1) return <p class="muted">No other span of this operation is kept.</p>;
  const max = Math.max(...spans.map((s) => s.durationMs));
  return (
    <div class="waterfall">
      {spans.map((s) => (
        <a key={s.spanId} href={href(['traces', s.spanId])} class={`wf-row ${s.spanId === span.spanId ? 'current' : ''} ${s.status === 'error' ? 'bad' : ''}`}>
          <span class="wf-label mono muted">
            {fmtTime(s.startMs)} <span class={`status ${s.status === 'error' ? 'bad' : 'ok'}`}>{s.statusCode ?? s.status}</span>
          </span>
          <span class="wf-track">
            <span class="wf-bar" style={{ left: '0%', width: `${Math.max(0.5, (s.durationMs / max) * 100)}%` }} />
          </span>
          <span class="wf-dur">{fmtMs(s.durationMs)}</span>
        </a>
      ))}
    </div>
  );
}

function Waterfall({ trace, current }: { trace: SpanSummary[]; current: string }) {
  const t0 = Math.min(...trace.map((s) => s.startMs));
  const t1 = Math.max(...trace.map((s) => s.startMs + s.durationMs));
  const span = Math.max(0.001, t1 - t0);
  return (
    <div class="waterfall">
      {trace.map((s) => (
        <a key={s.spanId} href={href(['traces', s.spanId])} class={`wf-row ${s.spanId === current ? 'current' : ''} ${s.status === 'error' ? 'bad' : ''}`}>
          <span class="wf-label">
            <span class={`badge ${s.kind}`}>{s.kind}</span> {s.service} <span class="mono muted">{s.name}</span>
          </span>
          <span class="wf-track">
            <span class="wf-bar" style={{ left: `${((s.startMs - t0) / span) * 100}%`, width: `${Math.max(0.5, (s.durationMs / span) * 100)}%` }} />
          </span>
          <span class="wf-dur">{fmtMs(s.durationMs)}</span>
        </a>
      ))}
    </div>
  );
}
