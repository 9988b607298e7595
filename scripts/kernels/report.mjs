// The matrix for a person: one row per feature, one column per kernel, then
// the reasons behind every off and FAIL, then timings.

const CELL = { ok: 'ok', off: 'off', fail: 'FAIL' };
const secs = (ms) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(0)} s`);

export function formatTable(kernels) {
  const names = [];
  for (const k of kernels) for (const n of Object.keys(k.features)) if (!names.includes(n)) names.push(n);
  const cols = kernels.map((k) => `${k.name} (${k.version ?? '?'})`);
  const w0 = Math.max(7, ...names.map((n) => n.length));
  const ws = cols.map((c) => Math.max(c.length, 4));
  const row = (first, cells) => `${first.padEnd(w0)}  ${cells.map((c, i) => c.padEnd(ws[i])).join('  ')}`.trimEnd();
  const lines = [row('feature', cols), row('-'.repeat(w0), ws.map((w) => '-'.repeat(w)))];
  for (const n of names) lines.push(row(n, kernels.map((k) => (k.features[n] ? CELL[k.features[n].status] : '-'))));
  lines.push(row('PASSED', kernels.map((k) => (k.passed ? 'yes' : 'NO'))));
  const notes = [];
  for (const k of kernels) {
    for (const [n, f] of Object.entries(k.features)) if (f.status !== 'ok') notes.push(`  ${k.name} ${CELL[f.status]} ${n}: ${f.reason ?? ''}`);
  }
  if (notes.length) lines.push('', 'reasons:', ...notes);
  lines.push('', 'timings:');
  for (const k of kernels) {
    const t = k.timings ?? {};
    const per = Object.entries(t.perCheckMs ?? {}).map(([c, ms]) => `${c} ${secs(ms)}`).join(', ');
    lines.push(`  ${k.name}: ${k.release ?? ''} total ${secs(t.totalMs)} (fetch ${secs(t.fetchMs)}, boot ${secs(t.bootMs)}${per ? `, ${per}` : ''})`);
  }
  return lines.join('\n');
}
