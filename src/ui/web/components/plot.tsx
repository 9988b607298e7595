// One uPlot chart in a preact component: created when mounted, given new data
// on every render, resized with its container, rebuilt when its options change
// (e.g. the colour theme). Colours come from CSS variables.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export interface PlotProps {
  /** Builds uPlot options for a width (height is part of the options). */
  options: (width: number) => uPlot.Options;
  data: uPlot.AlignedData;
  /** Changing this rebuilds the chart (series set, theme…). */
  rebuildKey: string;
  className?: string;
}

export function Plot({ options, data, rebuildKey, className }: PlotProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(80, el.clientWidth);
    plot.current = new uPlot(options(width), latest.current, el);
    const ro = new ResizeObserver(() => {
      const p = plot.current;
      const w = Math.max(80, el.clientWidth);
      if (p && Math.abs(p.width - w) > 1) p.setSize({ width: w, height: p.height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [rebuildKey]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div ref={box} class={`plot ${className ?? ''}`} />;
}

/** Theme changes (light/dark) rebuild the charts: this is part of every rebuildKey. */
export function themeKey(): string {
  return document.documentElement.dataset.theme ?? 'auto';
}

/** Time axis ticks in local time. */
export function timeAxis(stroke: string, grid: string): uPlot.Axis {
  return {
    stroke,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1, size: 4 },
    font: '11px system-ui, sans-serif',
    space: 70,
    // Local wall-clock time; the date is in the page, not on every chart.
    values: (_u, splits) => {
      const step = splits.length > 1 ? splits[1]! - splits[0]! : 60;
      return splits.map((v) => {
        const d = new Date(v * 1000);
        const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
        return step < 60 ? `${hm}:${String(d.getSeconds()).padStart(2, '0')}` : hm;
      });
    },
  };
}

export function valueAxis(stroke: string, grid: string, fmt: (v: number) => string, size = 56): uPlot.Axis {
  return {
    stroke,
    grid: { stroke: grid, width: 1 },
    ticks: { show: false },
    font: '11px system-ui, sans-serif',
    size,
    values: (_u, splits) => splits.map((v) => (v === null || v === undefined ? '' : fmt(v))),
  };
}
