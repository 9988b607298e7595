// The ServiceIdentity of a process: who it is in telemetry.
//
// service.name, first that applies:
//   1. the `name` of the discovery selector that picked the process (or its ancestor);
//   2. OTEL_SERVICE_NAME in the process's environment;
//   3. service.name in the process's OTEL_RESOURCE_ATTRIBUTES;
//   4. the name of the selected parent it was forked from, when it runs the same
//      executable (pre-fork workers: gunicorn, nginx, node cluster);
//   5. the agent-wide default (OTEL_SERVICE_NAME set on the agent), applied only
//      when selectors were given — never to every process on the host;
//   6. derived from the executable or script (service-name.ts).
// service.namespace follows the same order with service.namespace values.
import { posix } from 'node:path';
import type { ServiceIdentity } from '../telemetry/span.js';
import { scrubbedCommandLine } from './command-line-scrub.js';
import { serviceInstanceId } from './instance-id.js';
import type { ProcessInfo } from '../process/process-info.js';
import { parseResourceAttributes } from './resource-attributes.js';
import { deriveServiceName } from './service-name.js';

export interface NameHint {
  name?: string;
  namespace?: string;
}

export interface IdentityHints {
  /** From the selector that matched (step 1). */
  selector?: NameHint;
  /** The selected parent's identity and executable (step 4). */
  parent?: { identity: ServiceIdentity; exePath: string };
  /** Agent-wide default (step 5). */
  agentDefault?: NameHint;
}

export function serviceIdentity(info: ProcessInfo, hints: IdentityHints = {}): ServiceIdentity {
  const attrs = parseResourceAttributes(info.env.OTEL_RESOURCE_ATTRIBUTES);
  const envName = info.env.OTEL_SERVICE_NAME?.trim() || undefined;
  const sameExeParent = hints.parent && hints.parent.exePath === info.exePath ? hints.parent.identity : undefined;
  const name =
    hints.selector?.name ??
    envName ??
    (attrs['service.name'] || undefined) ??
    sameExeParent?.name ??
    hints.agentDefault?.name ??
    deriveServiceName(info.exePath, info.cmdline, info.cwd);
  const namespace =
    hints.selector?.namespace ?? (attrs['service.namespace'] || undefined) ?? sameExeParent?.namespace ?? hints.agentDefault?.namespace;
  const identity: ServiceIdentity = {
    name,
    instanceId: attrs['service.instance.id'] || serviceInstanceId(info.pid, info.startTicks),
    pid: info.pid,
    executableName: posix.basename(info.exePath),
    executablePath: info.exePath,
    commandLine: scrubbedCommandLine(info.cmdline),
  };
  if (namespace) identity.namespace = namespace;
  if (info.containerId) identity.containerId = info.containerId;
  return Object.freeze(identity);
}
