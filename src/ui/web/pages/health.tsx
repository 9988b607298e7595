// The agent's own health: which features run (and why the others do not), what
// it watches, how many records flow and are dropped, and what it costs in CPU
// and memory.
import { useMemo } from 'preact/hooks';
import type { FeatureHealth, HealthView, WatchedProcess } from '../../../store/health.js';
import { type Line, TimeChart } from '../components/charts.js';
import { Empty, PageHeader, Stat } from '../components/layout.js';
import { type Column, SortTable } from '../components/sort-table.js';
import { fmtBytes, fmtCount, fmtNumber } from '../format.js';
import { useApi } from '../live.js';

const WATCHED: Array<Column<WatchedProcess>> = [
  { key: 'pid', label: 'PID', numeric: true, value: (p) => p.pid, width: '6em' },
  { key: 'service', label: 'Service', value: (p) => p.service },
  { key: 'exe', label: 'Executable', value: (p) => p.executable ?? null, render: (p) => <span class="mono">{p.executable ?? '–'}</span> },
  { key: 'reason', label: 'Watched because', value: (p) => p.reason ?? null },
];

const STATE_CLASS: Record<FeatureHealth['state'], string> = { up: 'ok', off: 'bad', disabled: 'muted' };

/** Every feature with its state and, when it is not up, the reason. */
function FeaturesTable(props: { features: FeatureHealth[] }) {
  return (
    <table class="data" id="features-table">
      <thead>
        <tr>
          <th>Feature</th>
          <th>State</th>
          <th>What it gives</th>
          <th>Why not / note</th>
        </tr>
      </thead>
      <tbody>
        {props.features.map((f) => (
          <tr key={f.name} data-feature={f.name} class={f.state === 'off' ? 'error-row' : ''}>
            <td class="mono nowrap">{f.name}</td>
            <td>
              <span class={`status ${STATE_CLASS[f.state]}`}>{f.state}</span>
            </td>
            <td>{f.title}</td>
            <td class="mono feature-reason">{(f.state === 'up' ? f.note : f.reason) ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Counters that matter most first; the rest alphabetically. */
function records(h: HealthView) {
  const find = (re: RegExp) => h.counters.filter((c) => re.test(c.name));
  const received = find(/^records\.(received|read)/)[0] ?? find(/records/)[0];
  const drops = h.counters.filter((c) => c.drop);
  return { received, drops };
}

export function HealthPage() {
  const api = useApi<HealthView>('/api/health');
  const h = api.data;
  const charts = useMemo(() => {
    if (!h) return null;
    const { received, drops } = records(h);
    const rateLines: Line[] = [];
    if (received) rateLines.push({ label: `${received.name}/s`, values: h.history.rates[received.name] ?? [], color: '--accent', fill: true });
    for (const d of drops) rateLines.push({ label: `${d.name}/s`, values: h.history.rates[d.name] ?? [], color: '--bad' });
    return {
      rateLines,
      cpu: [{ label: 'CPU %', values: h.history.cpuPercent, color: '--c-p95', fill: true }] as Line[],
      mem: [
        { label: 'RSS MiB', values: h.history.rssMb, color: '--accent', fill: true },
        { label: 'heap MiB', values: h.history.heapMb, color: '--c-p50' },
      ] as Line[],
    };
  }, [h]);
  if (!h) return <Empty title="Loading…" />;
  if (!h.latest) return <Empty title="No health data yet">{<p>The agent records a health snapshot every few seconds.</p>}</Empty>;
  const { received, drops } = records(h);
  const dropTotal = drops.reduce((a, d) => a + d.total, 0);
  const latest = h.latest;
  const features = latest.features ?? [];
  const off = features.filter((f) => f.state === 'off');
  const up = features.filter((f) => f.state === 'up');
  return (
    <>
      <PageHeader title="Agent health" subtitle={`The waggle agent itself · snapshot ${new Date(latest.timeMs).toLocaleTimeString()}`} />
      {off.length > 0 && (
        <div class="notice bad" role="status" id="features-off">
          {off.length === 1
            ? `Running without ${off[0]!.name}: ${off[0]!.reason ?? 'no reason given'}`
            : `Running without ${off.map((f) => f.name).join(', ')}. ${off.map((f) => `${f.name}: ${f.reason ?? 'no reason given'}`).join(' · ')}`}
        </div>
      )}
      <div class="stats">
        <Stat label="Features" value={`${up.length} of ${up.length + off.length}`} sub={off.length ? `${off.length} off` : 'all running'} tone={off.length ? 'bad' : ''} />
        <Stat label="Watched processes" value={fmtCount(latest.watched.length)} />
        <Stat label="Records" value={received ? `${fmtNumber(received.rate)}/s` : '–'} sub={received ? `${fmtCount(received.total)} total` : 'no capture running'} />
        <Stat label="Dropped" value={fmtCount(dropTotal)} sub={drops.length ? `${fmtNumber(drops.reduce((a, d) => a + d.rate, 0))}/s now` : 'none counted'} tone={dropTotal > 0 ? 'bad' : ''} />
        <Stat label="CPU" value={h.cpuPercent === null ? '–' : `${h.cpuPercent.toFixed(1)} %`} sub="of one core" />
        <Stat label="Memory" value={fmtBytes(latest.rssBytes)} sub={`heap ${fmtBytes(latest.heapUsedBytes)}`} />
      </div>
      {charts && (
        <div class="grid3">
          {charts.rateLines.length > 0 && (
            <div class="card">
              <TimeChart title="Records per second" t={h.history.t} lines={charts.rateLines} format={(x) => fmtNumber(x)} />
            </div>
          )}
          <div class="card">
            <TimeChart title="CPU (% of one core)" t={h.history.t} lines={charts.cpu} format={(x) => `${x.toFixed(1)} %`} />
          </div>
          <div class="card">
            <TimeChart title="Memory" t={h.history.t} lines={charts.mem} format={(x) => `${fmtNumber(x)} MiB`} />
          </div>
        </div>
      )}
      {features.length > 0 && (
        <section>
          <div class="section-head">
            <h2>Features</h2>
          </div>
          <div class="card flush">
            <FeaturesTable features={features} />
          </div>
        </section>
      )}
      <div class="grid2">
        <section>
          <div class="section-head">
            <h2>Watched processes</h2>
          </div>
          <div class="card flush">
            <SortTable id="watched-table" rows={latest.watched} columns={WATCHED} rowKey={(p) => String(p.pid)} initial={{ key: 'service', desc: false }} empty="No process is watched." />
          </div>
        </section>
        <section>
          <div class="section-head">
            <h2>Counters</h2>
          </div>
          <div class="card flush">
            <table class="data" id="counters-table">
              <thead>
                <tr>
                  <th>Counter</th>
                  <th class="num">Total</th>
                  <th class="num">Per second</th>
                </tr>
              </thead>
              <tbody>
                {h.counters.map((c) => (
                  <tr key={c.name} class={c.drop && c.total > 0 ? 'error-row' : ''}>
                    <td class="mono">{c.name}</td>
                    <td class="num">{fmtCount(c.total)}</td>
                    <td class="num">{fmtNumber(c.rate)}</td>
                  </tr>
                ))}
                {Object.entries(latest.gauges).map(([k, v]) => (
                  <tr key={k}>
                    <td class="mono">{k}</td>
                    <td class="num">{k.endsWith('bytes') ? fmtBytes(v) : fmtCount(v)}</td>
                    <td class="num muted">gauge</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      </div>
    </>
  );
}
