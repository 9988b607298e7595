// Numbers with units, the same way everywhere.

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 0.001) return '0 ms';
  if (ms < 1) return `${trim(ms.toFixed(2))} ms`;
  if (ms < 10) return `${trim(ms.toFixed(1))} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${trim((ms / 1000).toFixed(ms < 10_000 ? 2 : 1))} s`;
  return `${trim((ms / 60_000).toFixed(1))} min`;
}

/** "1.50" → "1.5", "2.0" → "2". */
function trim(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

export function fmtRate(perSec: number | null | undefined, unit = 'req/s'): string {
  if (perSec === null || perSec === undefined || !Number.isFinite(perSec)) return '–';
  return `${fmtNumber(perSec)} ${unit}`;
}

export function fmtNumber(n: number): string {
  const a = Math.abs(n);
  if (a === 0) return '0';
  if (a < 0.01) return n.toFixed(3);
  if (a < 10) return n.toFixed(2).replace(/\.?0+$/, '') || '0';
  if (a < 1000) return n.toFixed(a < 100 ? 1 : 0).replace(/\.0$/, '');
  if (a < 1e6) return `${(n / 1e3).toFixed(a < 1e4 ? 2 : 1).replace(/\.?0+$/, '')}k`;
  if (a < 1e9) return `${(n / 1e6).toFixed(1).replace(/\.0$/, '')}M`;
  return `${(n / 1e9).toFixed(1).replace(/\.0$/, '')}G`;
}

export function fmtCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '–';
  const p = ratio * 100;
  if (p === 0) return '0 %';
  if (p < 0.1) return '<0.1 %';
  if (p < 10) return `${p.toFixed(1)} %`;
  return `${Math.round(p)} %`;
}

export function fmtBytes(b: number | null | undefined): string {
  if (b === null || b === undefined || !Number.isFinite(b)) return '–';
  if (b < 1024) return `${b} B`;
  if (b < 1024 ** 2) return `${(b / 1024).toFixed(1)} KiB`;
  if (b < 1024 ** 3) return `${(b / 1024 ** 2).toFixed(1)} MiB`;
  return `${(b / 1024 ** 3).toFixed(2)} GiB`;
}

export function fmtTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function fmtAgo(ms: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${(s / 3600).toFixed(1)} h ago`;
}

/** Severity class for an error ratio. */
export function errorClass(ratio: number | null | undefined): string {
  if (!ratio) return '';
  if (ratio >= 0.05) return 'bad';
  if (ratio >= 0.01) return 'warn';
  return '';
}
