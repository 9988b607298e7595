// Which processes `--service NAME` means: every process whose derived
// service.name (discovery's rule: OTEL_SERVICE_NAME, else the script or
// executable) is NAME.
import { readdirSync } from 'node:fs';
import { readProcessInfo, serviceIdentity } from '../../discovery/index.js';

export function pidsOfService(name: string, proc = '/proc'): number[] {
  const out: number[] = [];
  for (const entry of readdirSync(proc)) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const info = readProcessInfo(pid, proc);
    if (info && serviceIdentity(info).name === name) out.push(pid);
  }
  return out;
}
