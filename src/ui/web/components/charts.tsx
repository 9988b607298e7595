// The charts the pages use, all drawn by uPlot: time series, sparklines, a
// latency heatmap (uPlot axes, scales and cursor; cells painted by a series
// path builder) and a latency histogram (uPlot bars).
import { useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { fmtCount, fmtMs, fmtNumber } from '../format.js';
import { Plot, cssVar, themeKey, timeAxis, valueAxis } from './plot.js';

export interface Line {
  label: string;
  values: Array<number | null>;
  /** CSS variable name of the colour, e.g. --c-p95. */
  color: string;
  fill?: boolean;
  dash?: number[];
}

export function TimeChart(props: { t: number[]; lines: Line[]; format: (v: number) => string; height?: number; title: string; log?: boolean }) {
  const { t, lines, format, height = 180, title, log = false } = props;
  const data = useMemo(() => [t.map((x) => x / 1000), ...lines.map((l) => l.values)] as uPlot.AlignedData, [t, lines]);
  const sparse = lines.map((l) => (l.values.filter((v) => v !== null).length < 3 ? 1 : 0)).join('');
  const key = `${themeKey()}|${lines.map((l) => l.label).join(',')}|${height}|${log}|${sparse}`;
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <Plot
        rebuildKey={key}
        data={data}
        options={(width) => {
          const text = cssVar('--muted');
          const grid = cssVar('--grid');
          return {
            width,
            height,
            legend: { show: true, live: true },
            cursor: { points: { size: 6 }, drag: { x: false, y: false } },
            scales: {
              x: { time: true },
              // Latency spans decades (p50 of a few ms, p99 of seconds): a log scale shows both.
              // Whole decades, so the axis always has at least two labelled lines.
              y: log
                ? {
                    distr: 3,
                    log: 10,
                    range: (_u, min, max) => {
                      if (!(max > 0)) return [0.1, 10];
                      const lo = 10 ** Math.floor(Math.log10(min > 0 ? min : max / 100));
                      const hi = 10 ** Math.ceil(Math.log10(max * 1.05));
                      return [lo, hi > lo ? hi : lo * 10];
                    },
                  }
                : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
            },
            axes: [timeAxis(text, grid), valueAxis(text, grid, format)],
            series: [
              { value: (_u, v) => (v === null ? '–' : new Date(v * 1000).toLocaleTimeString()) },
              ...lines.map((l) => {
                const color = cssVar(l.color);
                return {
                  label: l.label,
                  stroke: color,
                  width: 1.75,
                  fill: l.fill ? `${color}22` : undefined,
                  dash: l.dash,
                  // A line needs two points: while a series has fewer, show its dots.
                  points: { show: l.values.filter((v) => v !== null).length < 3, size: 6 },
                  spanGaps: false,
                  value: (_u: uPlot, v: number | null) => (v === null ? '–' : format(v)),
                } satisfies uPlot.Series;
              }),
            ],
          };
        }}
      />
    </figure>
  );
}

export function Sparkline({ values, color = '--accent', width = 132, height = 30 }: { values: number[]; color?: string; width?: number; height?: number }) {
  const data = useMemo(() => [values.map((_, i) => i), values] as uPlot.AlignedData, [values]);
  return (
    <div class="spark" style={{ width: `${width}px` }} aria-label={`trend, last value ${fmtNumber(values.at(-1) ?? 0)}`}>
      <Plot
        rebuildKey={`${themeKey()}|${color}|${width}`}
        data={data}
        options={() => {
          const c = cssVar(color);
          return {
            width,
            height,
            legend: { show: false },
            cursor: { show: false },
            scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
            axes: [{ show: false }, { show: false }],
            series: [{}, { stroke: c, width: 1.5, fill: `${c}26`, points: { show: false } }],
            padding: [2, 1, 1, 1],
          };
        }}
      />
    </div>
  );
}

/**
 * Latency over time: one column per time slot, one row per latency bucket,
 * the cell's colour by how many requests fell in it.
 */
export function Heatmap(props: { t: number[]; stepMs: number; boundsMs: Array<number | null>; counts: number[][]; height?: number }) {
  const { t, stepMs, boundsMs, counts, height = 200 } = props;
  const [hover, setHover] = useState<string>('');
  // Rows that ever hold data, plus one on each side, so the chart is not mostly empty.
  const { lo, hi, max } = useMemo(() => {
    let lo = boundsMs.length;
    let hi = -1;
    let max = 0;
    for (const row of counts)
      row.forEach((c, i) => {
        if (c > 0) {
          lo = Math.min(lo, i);
          hi = Math.max(hi, i);
          max = Math.max(max, c);
        }
      });
    if (hi < 0) return { lo: 3, hi: 8, max: 0 };
    return { lo: Math.max(0, lo - 1), hi: Math.min(boundsMs.length - 1, hi + 1), max };
  }, [counts, boundsMs]);
  const upper = (i: number) => boundsMs[i] ?? (boundsMs[i - 1] ?? 10_000) * 2;
  const lower = (i: number) => (i === 0 ? upper(0) / 2 : upper(i - 1));
  const data = useMemo(() => [t.map((x) => x / 1000), t.map(() => null)] as unknown as uPlot.AlignedData, [t, counts]);
  // The chart outlives renders: its painter and cursor read the newest figures from here.
  const live = useRef({ t, counts, max });
  live.current = { t, counts, max };
  const key = `${themeKey()}|${lo}|${hi}|${height}`;
  return (
    <figure class="chart">
      <figcaption>
        Latency heatmap <span class="hint">{hover || 'requests per 10 s slot and latency bucket; hover a cell'}</span>
      </figcaption>
      <Plot
        rebuildKey={key}
        data={data}
        options={(width) => {
          const text = cssVar('--muted');
          const grid = cssVar('--grid');
          const hot = cssVar('--heat');
          return {
            width,
            height,
            legend: { show: false },
            cursor: { points: { show: false }, drag: { x: false, y: false }, y: false },
            scales: {
              x: { time: true, range: (_u, min, max) => [min, max + stepMs / 1000] },
              y: { distr: 3, range: () => [lower(lo), upper(hi)] },
            },
            axes: [timeAxis(text, grid), { ...valueAxis(text, grid, (v) => fmtMs(v)), splits: () => boundsMs.slice(lo, hi + 1).filter((b): b is number => b !== null) }],
            series: [
              {},
              {
                paths: (u) => {
                  const { t, counts, max } = live.current;
                  const ctx = u.ctx;
                  const stepPx = Math.max(1, u.valToPos(stepMs / 1000, 'x', true) - u.valToPos(0, 'x', true));
                  ctx.save();
                  ctx.beginPath();
                  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
                  ctx.clip();
                  counts.forEach((row, col) => {
                    const x = u.valToPos(t[col]! / 1000, 'x', true);
                    for (let i = lo; i <= hi; i++) {
                      const c = row[i] ?? 0;
                      if (c === 0) continue;
                      const y1 = u.valToPos(upper(i), 'y', true);
                      const y0 = u.valToPos(lower(i), 'y', true);
                      // Square-root scale: small counts stay visible next to large ones.
                      ctx.globalAlpha = 0.15 + 0.85 * Math.sqrt(c / max);
                      ctx.fillStyle = hot;
                      ctx.fillRect(x + 0.5, y1 + 0.5, stepPx - 1, y0 - y1 - 1);
                    }
                  });
                  ctx.restore();
                  return null;
                },
              },
            ],
            hooks: {
              setCursor: [
                (u) => {
                  const { t, counts } = live.current;
                  const { left, top } = u.cursor;
                  if (left === undefined || top === undefined || left < 0) return setHover('');
                  const tx = u.posToVal(left, 'x') * 1000;
                  const ms = u.posToVal(top, 'y');
                  const col = t.findIndex((x) => tx >= x && tx < x + stepMs);
                  let row = lo;
                  while (row < hi && ms > upper(row)) row++;
                  const c = col >= 0 ? counts[col]?.[row] ?? 0 : 0;
                  setHover(col >= 0 ? `${new Date(t[col]!).toLocaleTimeString()}: ${fmtCount(c)} requests ${fmtMs(lower(row))} – ${boundsMs[row] === null ? '∞' : fmtMs(upper(row))}` : '');
                },
              ],
            },
          };
        }}
      />
    </figure>
  );
}

/** A bucket bound, short: 0.5 ms, 20 ms, 2 s. */
function fmtBound(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Requests per latency bucket over the window, as bars (labelled by their upper bound). */
export function LatencyHistogram(props: { boundsMs: Array<number | null>; counts: number[]; height?: number }) {
  const { boundsMs, counts, height = 200 } = props;
  let lo = counts.findIndex((c) => c > 0);
  let hi = counts.length - 1 - [...counts].reverse().findIndex((c) => c > 0);
  if (lo < 0) [lo, hi] = [3, 8];
  lo = Math.max(0, lo - 1);
  hi = Math.min(counts.length - 1, hi + 1);
  const labels = boundsMs.slice(lo, hi + 1).map((b, i) => (b === null ? `>${fmtBound(boundsMs[lo + i - 1] ?? 0)}` : fmtBound(b)));
  const data = useMemo(() => [labels.map((_, i) => i), counts.slice(lo, hi + 1)] as uPlot.AlignedData, [counts, lo, hi]);
  const total = counts.reduce((a, b) => a + b, 0);
  return (
    <figure class="chart">
      <figcaption>
        Latency distribution <span class="hint">{fmtCount(total)} requests in the window, by upper bound</span>
      </figcaption>
      <Plot
        rebuildKey={`${themeKey()}|${lo}|${hi}|${height}`}
        data={data}
        options={(width) => {
          const text = cssVar('--muted');
          const grid = cssVar('--grid');
          const c = cssVar('--accent');
          return {
            width,
            height,
            legend: { show: false },
            cursor: { points: { show: false }, drag: { x: false, y: false } },
            scales: { x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
            axes: [
              {
                stroke: text,
                grid: { show: false },
                ticks: { show: false },
                font: '11px system-ui, sans-serif',
                splits: () => labels.map((_, i) => i),
                // Every k-th label, so they never overlap; each bar's upper bound.
                values: (u, splits) => {
                  const k = Math.max(1, Math.ceil((labels.length * 44) / Math.max(1, u.bbox.width / devicePixelRatio)));
                  return splits.map((i) => (i % k === 0 ? labels[i] ?? '' : ''));
                },
              },
              valueAxis(text, grid, (v) => fmtNumber(v), 48),
            ],
            series: [{}, { stroke: c, fill: `${c}bb`, width: 0, paths: uPlot.paths.bars!({ size: [0.8, 64] }), points: { show: false } }],
          };
        }}
      />
    </figure>
  );
}
