// Which processes `--service NAME` means: every process whose derived
// service.name (discovery's rule: OTEL_SERVICE_NAME, else the script or
// executable) is NAME.
import { serviceIdentity } from '../../discovery/index.js';
import { ProcessTable } from '../../process/index.js';

export function pidsOfService(name: string, processes = new ProcessTable()): number[] {
  return processes
    .scan()
    .filter((info) => info.pid !== process.pid && serviceIdentity(info).name === name)
    .map((info) => info.pid);
}
