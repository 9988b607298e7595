// Services overview: every service with its rate, errors and latency, live.
import type { ServiceSummary } from '../../../store/views.js';
import { Sparkline } from '../components/charts.js';
import { Empty, PageHeader, Stat } from '../components/layout.js';
import { type Column, SortTable } from '../components/sort-table.js';
import { errorClass, fmtCount, fmtMs, fmtPercent, fmtRate } from '../format.js';
import { useLive } from '../live.js';
import { href, navigate } from '../router.js';

const COLUMNS: Array<Column<ServiceSummary>> = [
  {
    key: 'name',
    label: 'Service',
    value: (s) => s.name,
    render: (s) => (
      <div class="svc-cell">
        <a href={href(['services', s.name])} class="svc-name" onClick={(e) => e.stopPropagation()}>
          {s.name}
        </a>
        <span class="svc-meta">
          {s.instances.length === 1 ? `${s.instances[0]!.executable} · pid ${s.instances[0]!.pid}` : `${s.instances.length} instances`}
          {!s.server && s.client ? ' · client only' : ''}
        </span>
      </div>
    ),
  },
  { key: 'rate', label: 'Requests', numeric: true, descFirst: true, title: 'incoming requests per second', value: (s) => s.server?.rate ?? null, render: (s) => fmtRate(s.server?.rate) },
  {
    key: 'errors',
    label: 'Errors',
    numeric: true,
    descFirst: true,
    title: 'share of incoming requests that failed (5xx)',
    value: (s) => s.server?.errorRatio ?? null,
    render: (s) => <span class={`pill ${errorClass(s.server?.errorRatio)}`}>{fmtPercent(s.server?.errorRatio)}</span>,
  },
  { key: 'p50', label: 'p50', numeric: true, descFirst: true, value: (s) => s.server?.p50Ms ?? null, render: (s) => fmtMs(s.server?.p50Ms) },
  { key: 'p95', label: 'p95', numeric: true, descFirst: true, value: (s) => s.server?.p95Ms ?? null, render: (s) => fmtMs(s.server?.p95Ms) },
  { key: 'p99', label: 'p99', numeric: true, descFirst: true, value: (s) => s.server?.p99Ms ?? null, render: (s) => fmtMs(s.server?.p99Ms) },
  {
    key: 'out',
    label: 'Outgoing',
    numeric: true,
    descFirst: true,
    title: 'calls this service made per second (client side)',
    value: (s) => s.client?.rate ?? null,
    render: (s) =>
      s.client ? (
        <span>
          {fmtRate(s.client.rate)}
          {s.client.errorRatio > 0 && <span class={`sub ${errorClass(s.client.errorRatio)}`}> · {fmtPercent(s.client.errorRatio)} err</span>}
        </span>
      ) : (
        '–'
      ),
  },
  { key: 'trend', label: 'Last 15 min', value: (s) => s.spark.reduce((a, b) => a + b, 0), descFirst: true, render: (s) => <Sparkline values={s.spark} color={s.server ? '--accent' : '--c-client'} /> },
];

export function OverviewPage() {
  const { overview, connected } = useLive();
  if (!overview) return <Empty title={connected ? 'Loading…' : 'Connecting to the agent…'} />;
  const services = overview.services;
  const total = services.reduce((a, s) => a + (s.server?.rate ?? 0), 0);
  const count = services.reduce((a, s) => a + (s.server?.count ?? 0), 0);
  const errors = services.reduce((a, s) => a + (s.server?.errors ?? 0), 0);
  const failing = services.filter((s) => (s.server?.errorRatio ?? 0) >= 0.05).length;
  return (
    <>
      <PageHeader title="Services" subtitle={`Every process waggle watches, from its traffic. Figures over the last ${overview.windowMs / 60_000} min; click a column to sort.`} />
      <div class="stats">
        <Stat label="Services" value={fmtCount(services.length)} sub={`${services.filter((s) => s.server).length} serving requests`} />
        <Stat label="Requests" value={fmtRate(total)} sub={`${fmtCount(count)} in the last minute`} />
        <Stat label="Errors" value={fmtPercent(count ? errors / count : 0)} sub={`${fmtCount(errors)} failed requests`} tone={errorClass(count ? errors / count : 0)} />
        <Stat label="Failing services" value={fmtCount(failing)} sub="error ratio ≥ 5 %" tone={failing ? 'bad' : ''} />
      </div>
      {services.length === 0 ? (
        <Empty title="No traffic seen yet">
          <p>Services appear here as soon as a watched process sends or receives an HTTP request.</p>
        </Empty>
      ) : (
        <div class="card flush">
          <SortTable
            id="services-table"
            rows={services}
            columns={COLUMNS}
            rowKey={(s) => s.name}
            initial={{ key: 'rate', desc: true }}
            onRowClick={(s) => navigate(href(['services', s.name]))}
          />
        </div>
      )}
    </>
  );
}
