// Security events (process execs, policy matches, kills), newest first. The
// page is there from the start; it fills when the agent runs with policies.
import { useState } from 'preact/hooks';
import type { SecurityEventView } from '../../../store/security-events.js';
import { Empty, PageHeader, Stat } from '../components/layout.js';
import { fmtCount, fmtTime } from '../format.js';
import { useApi } from '../live.js';

interface EventsAnswer {
  total: number;
  byType: Record<string, number>;
  events: SecurityEventView[];
}

export function SecurityPage({ enabled }: { enabled: boolean }) {
  const [type, setType] = useState('');
  const api = useApi<EventsAnswer>(`/api/security/events?limit=300${type ? `&type=${encodeURIComponent(type)}` : ''}`);
  const [open, setOpen] = useState<number | null>(null);
  const d = api.data;
  return (
    <>
      <PageHeader title="Security" subtitle="Process executions and policy matches, filtered in the kernel." />
      {!d ? (
        <Empty title="Loading…" />
      ) : d.total === 0 ? (
        <Empty title={enabled ? 'No security events yet' : 'Security observability is not running'}>
          {enabled ? (
            <p>Events appear here as soon as a policy matches or a watched process runs a program.</p>
          ) : (
            <p>
              Start the agent with policies (<code>waggle run --policy FILE|DIR</code>) to see process executions and policy matches here, live.
            </p>
          )}
        </Empty>
      ) : (
        <>
          <div class="stats">
            <Stat label="Events" value={fmtCount(d.total)} />
            {Object.entries(d.byType)
              .sort((a, b) => b[1] - a[1])
              .slice(0, 4)
              .map(([t, n]) => (
                <Stat key={t} label={t} value={fmtCount(n)} />
              ))}
          </div>
          <div class="filters">
            <label>
              Type
              <select value={type} onChange={(e) => setType(e.currentTarget.value)}>
                <option value="">all</option>
                {Object.keys(d.byType)
                  .sort()
                  .map((t) => (
                    <option key={t} value={t}>
                      {t}
                    </option>
                  ))}
              </select>
            </label>
          </div>
          <div class="card flush">
            <table class="data" id="security-table">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Type</th>
                  <th>Policy</th>
                  <th>Action</th>
                  <th>Process</th>
                  <th>Detail</th>
                </tr>
              </thead>
              <tbody>
                {d.events.map((e) => (
                  <>
                    <tr key={e.seq} class={`clickable ${e.action === 'sigkill' || e.action === 'deny' ? 'error-row' : ''}`} onClick={() => setOpen(open === e.seq ? null : e.seq)}>
                      <td class="mono muted">{fmtTime(e.timeMs)}</td>
                      <td>
                        <span class="badge">{e.type}</span>
                      </td>
                      <td>{e.policy ?? '–'}</td>
                      <td>{e.action ? <span class={`pill ${e.action === 'sigkill' || e.action === 'deny' ? 'bad' : ''}`}>{e.action}</span> : '–'}</td>
                      <td class="mono">
                        {e.process?.binary ?? '?'} <span class="muted">pid {e.process?.pid ?? '?'}</span>
                      </td>
                      <td class="mono muted ellipsis">{summary(e)}</td>
                    </tr>
                    {open === e.seq && (
                      <tr key={`${e.seq}-detail`} class="detail-row">
                        <td colSpan={6}>
                          <pre>{JSON.stringify(e, null, 2)}</pre>
                        </td>
                      </tr>
                    )}
                  </>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}

function summary(e: SecurityEventView): string {
  const skip = new Set(['time', 'type', 'policy', 'action', 'process', 'seq', 'timeMs']);
  const parts: string[] = [];
  if (e.process?.arguments) parts.push(String(e.process.arguments));
  for (const [k, v] of Object.entries(e)) {
    if (skip.has(k) || v === undefined || v === null) continue;
    parts.push(`${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  }
  return parts.join(' ').slice(0, 160);
}
