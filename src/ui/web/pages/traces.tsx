// Recent spans, filtered by service, side, operation, status and minimum
// duration (filters live in the URL, so a view can be shared). Clicking a span
// opens its detail.
import { useEffect, useState } from 'preact/hooks';
import type { OverviewView, SpanSummary } from '../../../store/views.js';
import { Empty, PageHeader } from '../components/layout.js';
import { type Column, SortTable } from '../components/sort-table.js';
import { fmtMs, fmtTime } from '../format.js';
import { useApi, useLive } from '../live.js';
import { type Route, href, navigate } from '../router.js';

interface SpansAnswer {
  nowMs: number;
  spans: SpanSummary[];
  scanned: number;
}

const FILTERS = ['service', 'side', 'operation', 'status', 'minMs'] as const;

export function TracesPage({ route }: { route: Route }) {
  const q = route.query;
  const [paused, setPaused] = useState(false);
  const { overview } = useLive();
  const params = new URLSearchParams();
  for (const f of FILTERS) if (q.get(f)) params.set(f, q.get(f)!);
  params.set('limit', '200');
  const api = useApi<SpansAnswer>(`/api/spans?${params}`, { paused });
  const set = (name: (typeof FILTERS)[number], value: string) => {
    const next: Record<string, string> = {};
    for (const f of FILTERS) next[f] = q.get(f) ?? '';
    next[name] = value;
    navigate(href(['traces'], next), true);
  };
  const spans = api.data?.spans ?? [];
  const maxMs = Math.max(1, ...spans.map((s) => s.durationMs));
  const columns: Array<Column<SpanSummary>> = [
    { key: 'time', label: 'Time', value: (s) => s.startMs, descFirst: true, render: (s) => <span class="mono muted">{fmtTime(s.startMs)}</span>, width: '8.5em' },
    { key: 'service', label: 'Service', value: (s) => s.service },
    { key: 'kind', label: 'Kind', value: (s) => s.kind, render: (s) => <span class={`badge ${s.kind}`}>{s.kind}</span> },
    {
      key: 'name',
      label: 'Operation',
      value: (s) => s.name,
      render: (s) => (
        <span class="mono">
          {s.name}
          {s.peer && <span class="muted"> → {s.peerService ? `${s.peerService} (${s.peer})` : s.peer}</span>}
        </span>
      ),
    },
    { key: 'status', label: 'Status', value: (s) => s.statusCode ?? s.status, render: (s) => <span class={`status ${statusTone(s)}`}>{s.statusCode ?? s.status}</span> },
    {
      key: 'duration',
      label: 'Duration',
      numeric: true,
      descFirst: true,
      value: (s) => s.durationMs,
      render: (s) => (
        <span class="dur">
          <span class="dur-track">
            <span class={`dur-bar ${s.status === 'error' ? 'bad' : ''}`} style={{ width: `${Math.max(1.5, (s.durationMs / maxMs) * 100)}%` }} />
          </span>
          <span class="dur-text">{fmtMs(s.durationMs)}</span>
        </span>
      ),
      width: '15em',
    },
  ];
  return (
    <>
      <PageHeader title="Traces" subtitle="Recent spans kept by the agent: a sample of each service's traffic, and its errors and slowest requests.">
        <a class="button ghost" id="whole-traces" href={href(['trace'], { service: q.get('service') ?? '', operation: q.get('operation') ?? '' })}>
          Whole traces
        </a>
        <button type="button" class={`ghost ${paused ? 'on' : ''}`} onClick={() => setPaused((p) => !p)} title="Stop refreshing the list while you read it">
          {paused ? '▶ Resume' : '❚❚ Pause'}
        </button>
      </PageHeader>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Service
          <select name="service" value={q.get('service') ?? ''} onChange={(e) => set('service', e.currentTarget.value)}>
            <option value="">all</option>
            {serviceNames(overview, q.get('service')).map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select name="side" value={q.get('side') ?? ''} onChange={(e) => set('side', e.currentTarget.value)}>
            <option value="">all</option>
            <option value="server">server (incoming)</option>
            <option value="client">client (outgoing)</option>
          </select>
        </label>
        <label class="grow">
          Route or name contains
          <DebouncedInput name="operation" value={q.get('operation') ?? ''} placeholder="/api/orders" onChange={(v) => set('operation', v)} />
        </label>
        <label>
          Status
          <select name="status" value={q.get('status') ?? ''} onChange={(e) => set('status', e.currentTarget.value)}>
            <option value="">any</option>
            <option value="error">errors</option>
            <option value="ok">successes</option>
          </select>
        </label>
        <label>
          Min duration (ms)
          <DebouncedInput name="minMs" value={q.get('minMs') ?? ''} placeholder="0" inputMode="decimal" onChange={(v) => set('minMs', v)} />
        </label>
      </form>
      {api.error && <div class="notice bad">{api.error}</div>}
      {!api.data ? (
        <Empty title="Loading…" />
      ) : (
        <div class="card flush">
          <SortTable
            id="spans-table"
            rows={spans}
            columns={columns}
            rowKey={(s) => s.spanId}
            initial={{ key: 'time', desc: true }}
            onRowClick={(s) => navigate(href(['traces', s.spanId]))}
            rowClass={(s) => (s.status === 'error' ? 'error-row' : '')}
            empty="No spans match these filters."
          />
        </div>
      )}
      {api.data && <p class="foot">{`${spans.length} shown of ${api.data.scanned} kept spans.`}</p>}
    </>
  );
}

/** 5xx and failed calls red, other 4xx amber, the rest green. */
function statusTone(s: SpanSummary): string {
  if (s.statusCode !== null && s.statusCode >= 500) return 'bad';
  if (s.statusCode !== null && s.statusCode >= 400) return 'warn';
  return s.status === 'error' ? 'bad' : 'ok';
}

function serviceNames(overview: OverviewView | null, selected: string | null): string[] {
  const names = new Set((overview?.services ?? []).map((s) => s.name));
  if (selected) names.add(selected);
  return [...names].sort();
}

function DebouncedInput(props: { name: string; value: string; placeholder?: string; inputMode?: 'decimal'; onChange: (v: string) => void }) {
  const [v, setV] = useState(props.value);
  useEffect(() => setV(props.value), [props.value]);
  useEffect(() => {
    if (v === props.value) return;
    const t = setTimeout(() => props.onChange(v), 350);
    return () => clearTimeout(t);
  }, [v]);
  return <input name={props.name} value={v} placeholder={props.placeholder} inputMode={props.inputMode} onInput={(e) => setV(e.currentTarget.value)} />;
}
