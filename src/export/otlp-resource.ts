// ServiceIdentity → OpenTelemetry Resource. One resource per service instance,
// cached, so OTLP batches group spans and metrics under the right service.
// telemetry.sdk.* describe the OpenTelemetry JS SDK that encodes the data (as
// the SDK itself reports); telemetry.distro.* say it came from waggle.
import { hostname } from 'node:os';
import { type Resource, defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import type { ServiceIdentity } from '../telemetry/index.js';
import { semconv as sc } from '../telemetry/index.js';

export const DISTRO_NAME = 'waggle';
export const DISTRO_VERSION = '0.1.0';

const base = (): Resource => defaultResource();

/**
 * `extra` are the agent's own resource attributes (OTEL_RESOURCE_ATTRIBUTES on the
 * agent, `resource_attributes` in its config: deployment.environment, host.*…);
 * the process's own identity wins over them.
 */
export function serviceResource(s: ServiceIdentity, extra: Readonly<Record<string, string>> = {}): Resource {
  const attrs: Record<string, string | number> = {
    ...extra,
    [sc.ATTR_SERVICE_NAME]: s.name,
    [sc.ATTR_SERVICE_INSTANCE_ID]: s.instanceId,
    [sc.ATTR_PROCESS_PID]: s.pid,
    [sc.ATTR_PROCESS_EXECUTABLE_NAME]: s.executableName,
    [sc.ATTR_TELEMETRY_DISTRO_NAME]: DISTRO_NAME,
    [sc.ATTR_TELEMETRY_DISTRO_VERSION]: DISTRO_VERSION,
    'host.name': hostname(),
  };
  if (s.namespace !== undefined) attrs[sc.ATTR_SERVICE_NAMESPACE] = s.namespace;
  if (s.executablePath !== undefined) attrs[sc.ATTR_PROCESS_EXECUTABLE_PATH] = s.executablePath;
  if (s.commandLine !== undefined) attrs[sc.ATTR_PROCESS_COMMAND_LINE] = s.commandLine;
  if (s.containerId !== undefined) attrs[sc.ATTR_CONTAINER_ID] = s.containerId;
  return base().merge(resourceFromAttributes(attrs));
}

/** Bounded cache of resources by service.instance.id (oldest evicted first). */
export class ResourceCache {
  readonly #byInstance = new Map<string, Resource>();

  constructor(
    private readonly max: number,
    private readonly extra: Readonly<Record<string, string>> = {},
  ) {}

  get(s: ServiceIdentity): Resource {
    let r = this.#byInstance.get(s.instanceId);
    if (r === undefined) {
      r = serviceResource(s, this.extra);
      if (this.#byInstance.size >= this.max) this.#byInstance.delete(this.#byInstance.keys().next().value!);
      this.#byInstance.set(s.instanceId, r);
    }
    return r;
  }

  delete(instanceId: string): void {
    this.#byInstance.delete(instanceId);
  }
}
