// The agent's health as the UI's health page shows it: which features run (and
// why not), watched processes and the pipeline's counters, read from the
// components that own them.
import type { SocketCapture } from '../capture/index.js';
import type { Discovery } from '../discovery/index.js';
import type { FeatureHealth, HealthSources, WatchedProcess } from '../store/index.js';
import type { HttpTelemetry } from '../telemetry/index.js';

export interface HealthParts {
  discovery: Discovery;
  /** Absent when the `http` feature could not start. */
  capture: SocketCapture | undefined;
  telemetry: HttpTelemetry;
  features: () => FeatureHealth[];
  unidentified: () => number;
}

export function agentHealthSources(parts: HealthParts): HealthSources {
  return {
    watched: () =>
      [...parts.discovery.watched()].map(([pid, w]): WatchedProcess => ({
        pid,
        service: w.identity.name,
        executable: w.info.exePath,
        reason: w.reason.kind === 'selector' ? 'selected' : w.reason.kind === 'child' ? `child of ${w.reason.parent}` : 'all processes',
      })),
    features: parts.features,
    counters: () => {
      const t = parts.telemetry.stats();
      const c = parts.capture?.stats();
      return {
        ...(c
          ? {
              'records.received': c.delivered,
              'records.dropped.kernel': c.ringBufferDrops,
              'exchanges.lost.evicted': c.evicted,
              'exchanges.incomplete': c.incomplete,
              // Exchanges whose end the kernel had to guess: neighbours may have merged or gone uncounted.
              'exchanges.framing_lost': t.framingLostTotal,
              'exchanges.unidentified': parts.unidentified(),
            }
          : {}),
        'requests.parsed': t.requests,
        'parse.failures': t.parseFailures.reduce((a, f) => a + f.count, 0),
      };
    },
  };
}
