// AgentConfig → Discovery options: the flat selectors (open_ports, exe_path,
// pid) each become one selector, ORed with the `instrument` entries (whose
// criteria are ANDed within an entry, as in Beyla).
import type { DiscoveryOptions, SelectorSpec } from '../../discovery/index.js';
import type { AgentConfig } from './load-config.js';

export function discoveryOptions(config: AgentConfig): DiscoveryOptions {
  const d = config.discovery;
  const selectors: SelectorSpec[] = [];
  if (d.open_ports) selectors.push({ openPorts: d.open_ports });
  for (const glob of d.exe_path) selectors.push({ exePath: glob });
  if (d.pid.length > 0) selectors.push({ pids: d.pid });
  for (const e of d.instrument) {
    selectors.push({
      ...(e.open_ports ? { openPorts: e.open_ports } : {}),
      ...(e.exe_path ? { exePath: e.exe_path } : {}),
      ...(e.pid ? { pids: e.pid } : {}),
      ...(e.name ? { name: e.name } : {}),
      ...(e.namespace ? { namespace: e.namespace } : {}),
    });
  }
  const exclude: SelectorSpec[] = d.exclude.map((e) => ({
    ...(e.open_ports ? { openPorts: e.open_ports } : {}),
    ...(e.exe_path ? { exePath: e.exe_path } : {}),
    ...(e.pid ? { pids: e.pid } : {}),
  }));
  const service = config.service;
  return {
    selectors,
    exclude,
    excludeAgentChildren: d.exclude_agent_children,
    followChildren: d.follow_children,
    kernelEvents: d.kernel_events,
    maxProcesses: d.max_processes,
    ...(d.rescan_interval_ms !== undefined ? { rescanIntervalMs: d.rescan_interval_ms } : {}),
    ...(service.name || service.namespace ? { defaultService: { ...(service.name ? { name: service.name } : {}), ...(service.namespace ? { namespace: service.namespace } : {}) } } : {}),
  };
}
