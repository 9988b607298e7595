// The service map: services (solid), databases, caches and brokers (their own
// kinds, from db.system.name / messaging.system) and external peers (dashed)
// laid out left to right by who calls whom; each edge carries its rate and
// latency, thicker for more traffic, red when calls fail.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { EdgeView, MapView } from '../../../store/views.js';
import { Empty, PageHeader, WindowPicker } from '../components/layout.js';
import { type Column, SortTable } from '../components/sort-table.js';
import { errorClass, fmtMs, fmtPercent, fmtRate } from '../format.js';
import { useApi } from '../live.js';
import { layeredLayout } from '../map-layout.js';
import { type Route, href, navigate } from '../router.js';

const SIZE = { nodeW: 176, nodeH: 70, layerGap: 116, nodeGap: 40, pad: 24 };
const VERTICAL = { nodeW: 176, nodeH: 70, layerGap: 72, nodeGap: 150, pad: 24 };

export function ServiceMapPage({ route }: { route: Route }) {
  const windowMs = Number(route.query.get('window')) || 60_000;
  const api = useApi<MapView>(`/api/map?window=${windowMs}`);
  const [hover, setHover] = useState<string | null>(null);
  const m = api.data;
  return (
    <>
      <PageHeader title="Service map" subtitle="Who calls whom, measured from both ends of each connection. Databases, caches and brokers are tagged by kind; dashed boxes are peers waggle does not watch.">
        <WindowPicker value={windowMs} onChange={(ms) => navigate(href(['map'], { window: ms }), true)} />
      </PageHeader>
      {!m ? (
        <Empty title="Loading…" />
      ) : m.nodes.length === 0 ? (
        <Empty title="No calls seen yet">
          <p>Services and the calls between them appear here as traffic flows.</p>
        </Empty>
      ) : (
        <>
          <MapCanvas m={m} hover={hover} setHover={setHover} />
          <div class="section-head">
            <h2>Calls</h2>
            <span class="hint">hover a service name to highlight its calls on the map</span>
          </div>
          <div class="card flush">
            <SortTable
              id="edges-table"
              rows={m.edges}
              columns={edgeColumns(new Map(m.nodes.map((n) => [n.id, n.label])), setHover)}
              rowKey={(e) => `${e.from}>${e.to}`}
              initial={{ key: 'rate', desc: true }}
            />
          </div>
        </>
      )}
    </>
  );
}

function MapCanvas({ m, hover, setHover }: { m: MapView; hover: string | null; setHover: (id: string | null) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const [maxWidth, setMaxWidth] = useState(1100);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setMaxWidth(el.clientWidth - 36));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const layout = layeredLayout(
    m.nodes.map((n) => n.id),
    m.edges,
    SIZE,
    { maxWidth, vertical: VERTICAL },
  );
  const { nodeW, nodeH } = layout.vertical ? VERTICAL : SIZE;
  const maxRate = Math.max(...m.edges.map((e) => e.rate), 0.001);
  const byId = new Map(m.nodes.map((n) => [n.id, n]));
  const related = (e: EdgeView) => hover === null || e.from === hover || e.to === hover;
  return (
    <div class="card map-card" ref={box}>
      <svg id="service-map" class="map" viewBox={`0 0 ${layout.width} ${layout.height}`} width={layout.width} height={layout.height} role="img" aria-label="service map">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
          </marker>
          <marker id="arrow-bad" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead bad" />
          </marker>
        </defs>
        {m.edges.map((e) => {
          const a = layout.nodes.get(e.from);
          const b = layout.nodes.get(e.to);
          if (!a || !b) return null;
          const bad = e.errorRatio >= 0.05;
          const width = 1.25 + 4.5 * Math.sqrt(e.rate / maxRate);
          let d: string;
          let lx: number;
          let ly: number;
          let anchor: 'middle' | 'start' = 'middle';
          if (e.from === e.to) {
            // A service calling itself: a loop above the node.
            const x = a.x + nodeW / 2;
            d = `M${x - 20},${a.y} C${x - 40},${a.y - 50} ${x + 40},${a.y - 50} ${x + 20},${a.y}`;
            lx = x;
            ly = a.y - 44;
          } else if (layout.vertical) {
            const down = b.y > a.y;
            const x1 = a.x + nodeW / 2;
            const x2 = b.x + nodeW / 2;
            const y1 = down ? a.y + nodeH : a.y;
            const y2 = down ? b.y : b.y + nodeH;
            const bend = down ? Math.max(30, (y2 - y1) / 2) : -70;
            d = `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}`;
            // Beside the line, so the line itself stays visible.
            lx = (x1 + x2) / 2 + 12;
            ly = (y1 + y2) / 2 + 22;
            anchor = 'start';
          } else {
            const forward = b.x > a.x;
            const x1 = forward ? a.x + nodeW : a.x;
            const x2 = forward ? b.x : b.x + nodeW;
            const y1 = a.y + nodeH / 2;
            const y2 = b.y + nodeH / 2;
            const bend = forward ? Math.max(40, (x2 - x1) / 2) : -80;
            d = `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
            lx = (x1 + x2) / 2;
            // Above the line, so the line itself stays visible.
            ly = (y1 + y2) / 2 - 22;
          }
          // Up to three short lines, so a label fits in the gap between two columns.
          const lines: Array<[string, string]> = [
            [fmtRate(e.rate), ''],
            [`p95 ${fmtMs(e.p95Ms)}`, ''],
            ...(e.errorRatio > 0 ? ([[`${fmtPercent(e.errorRatio)} errors`, `err ${errorClass(e.errorRatio)}`]] as Array<[string, string]>) : []),
          ];
          const w = Math.max(...lines.map(([t]) => t.length)) * 6.7 + 12;
          const h = lines.length * 13 + 6;
          return (
            <g key={`${e.from}>${e.to}`} class={`edge ${bad ? 'bad' : ''} ${related(e) ? '' : 'dim'}`} data-from={byId.get(e.from)?.label} data-to={byId.get(e.to)?.label}>
              <title>{`${byId.get(e.from)?.label} → ${byId.get(e.to)?.label}\n${fmtRate(e.rate)}, errors ${fmtPercent(e.errorRatio)}\np50 ${fmtMs(e.p50Ms)} · p95 ${fmtMs(e.p95Ms)} · p99 ${fmtMs(e.p99Ms)}\nmeasured by the ${e.side === 'client' ? 'caller' : 'callee'}`}</title>
              <path d={d} class="edge-line" stroke-width={width} marker-end={bad ? 'url(#arrow-bad)' : 'url(#arrow)'} />
              <g class="edge-label" transform={`translate(${lx},${ly - h / 2 + 4})`}>
                <rect x={anchor === 'start' ? -6 : -w / 2} y={-h / 2} width={w} height={h} rx={6} />
                {lines.map(([t, cls], i) => (
                  <text key={i} class={cls} text-anchor={anchor} y={-h / 2 + 14 + i * 13}>
                    {t}
                  </text>
                ))}
              </g>
            </g>
          );
        })}
        {m.nodes.map((n) => {
          const p = layout.nodes.get(n.id)!;
          const s = n.summary;
          const service = n.service !== undefined;
          const datastore = n.type === 'database' || n.type === 'cache' || n.type === 'broker';
          // An unwatched datastore: its system as the title (the kind tag sits beside it), its address below.
          const unwatchedStore = datastore && !service && n.system !== undefined && n.label.startsWith(`${n.system} `);
          return (
            <g
              key={n.id}
              class={`node ${n.type} ${errorClass(s?.errorRatio)} ${hover && hover !== n.id ? 'dim' : ''}`}
              transform={`translate(${p.x},${p.y})`}
              data-node={n.label}
              onMouseEnter={() => setHover(n.id)}
              onMouseLeave={() => setHover(null)}
              data-kind={n.type}
              onClick={service ? () => navigate(href(['services', n.service!])) : undefined}
            >
              <rect width={nodeW} height={nodeH} rx={n.type === 'database' ? 4 : n.type === 'broker' ? 18 : 10} />
              {datastore && <title>{`${n.type}: ${n.label}${s ? `\n${fmtRate(s.rate)}, errors ${fmtPercent(s.errorRatio)}, p95 ${fmtMs(s.p95Ms)}` : ''}`}</title>}
              {datastore && (
                <text x={nodeW - 10} y={17} class="node-kind" text-anchor="end">
                  {n.type}
                </text>
              )}
              <text x={12} y={22} class="node-title">
                {truncate(unwatchedStore ? n.system! : n.label, datastore ? 12 : service ? 16 : 20)}
              </text>
              {unwatchedStore ? (
                <text x={12} y={41} class="node-sub node-address">
                  {truncate(n.label.slice(n.system!.length + 1), 24)}
                </text>
              ) : (
                <text x={12} y={41} class="node-sub">
                  {s ? fmtRate(s.rate) : service ? 'client only' : 'not watched'}
                </text>
              )}
              {s && unwatchedStore && (
                <text x={12} y={58} class="node-sub">
                  {fmtRate(s.rate)} · p95 {fmtMs(s.p95Ms)}
                </text>
              )}
              {s && !unwatchedStore && (
                <text x={12} y={58} class="node-sub">
                  p95 {fmtMs(s.p95Ms)}
                  {s.errorRatio > 0 && <tspan class={`err ${errorClass(s.errorRatio)}`}> · {fmtPercent(s.errorRatio)} err</tspan>}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}

function edgeColumns(label: Map<string, string>, setHover: (id: string | null) => void): Array<Column<EdgeView>> {
  const name = (id: string) => label.get(id) ?? id;
  const link = (id: string) =>
    id.startsWith('service:') ? (
      <a href={href(['services', name(id)])} onMouseEnter={() => setHover(id)} onMouseLeave={() => setHover(null)}>
        {name(id)}
      </a>
    ) : (
      <span class="mono muted">{name(id)}</span>
    );
  return [
    { key: 'from', label: 'Caller', value: (e) => name(e.from), render: (e) => link(e.from) },
    { key: 'to', label: 'Callee', value: (e) => name(e.to), render: (e) => link(e.to) },
    { key: 'rate', label: 'Calls', numeric: true, descFirst: true, value: (e) => e.rate, render: (e) => fmtRate(e.rate) },
    { key: 'err', label: 'Errors', numeric: true, descFirst: true, value: (e) => e.errorRatio, render: (e) => <span class={`pill ${errorClass(e.errorRatio)}`}>{fmtPercent(e.errorRatio)}</span> },
    { key: 'p50', label: 'p50', numeric: true, descFirst: true, value: (e) => e.p50Ms, render: (e) => fmtMs(e.p50Ms) },
    { key: 'p95', label: 'p95', numeric: true, descFirst: true, value: (e) => e.p95Ms, render: (e) => fmtMs(e.p95Ms) },
    { key: 'p99', label: 'p99', numeric: true, descFirst: true, value: (e) => e.p99Ms, render: (e) => fmtMs(e.p99Ms) },
    { key: 'side', label: 'Measured by', value: (e) => e.side, render: (e) => <span class="muted">{e.side === 'client' ? 'caller' : 'callee'}</span> },
    {
      key: 'traces',
      label: '',
      value: () => null,
      render: (e) =>
        e.from.startsWith('service:') && e.to.startsWith('service:') ? (
          <a href={href(['trace'], { service: name(e.from), calls: name(e.to) })} class="row-link edge-traces">
            traces
          </a>
        ) : null,
    },
  ];
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
