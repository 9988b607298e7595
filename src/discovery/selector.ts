// Which processes to watch. A selector's criteria are ANDed (a process must
// match every one given); several selectors are ORed by Discovery. Exclusions
// are selectors too.
import { ExeGlob } from './exe-glob.js';
import { PortSet } from './port-set.js';

export interface SelectorSpec {
  /** Listening TCP ports, e.g. "80,443,8000-8999" or a PortSet. */
  openPorts?: string | PortSet;
  /** Glob on the resolved executable path, e.g. "*\/python3*". */
  exePath?: string;
  pids?: readonly number[];
  /** service.name for processes this selector picks (and their children). */
  name?: string;
  /** service.namespace for processes this selector picks. */
  namespace?: string;
}

/** What a selector needs to know about a process. */
export interface SelectorFacts {
  pid: number;
  exePath: string;
  /** Listening TCP ports; undefined when not (yet) known. */
  ports?: ReadonlySet<number>;
}

export class Selector {
  readonly openPorts?: PortSet;
  readonly exePath?: ExeGlob;
  readonly pids?: ReadonlySet<number>;
  readonly name?: string;
  readonly namespace?: string;

  constructor(spec: SelectorSpec) {
    if (spec.openPorts !== undefined) this.openPorts = typeof spec.openPorts === 'string' ? PortSet.parse(spec.openPorts) : spec.openPorts;
    if (spec.exePath !== undefined) this.exePath = new ExeGlob(spec.exePath);
    if (spec.pids !== undefined) this.pids = new Set(spec.pids);
    if (!this.openPorts && !this.exePath && !this.pids) throw new Error('a selector needs at least one of openPorts, exePath, pids');
    if (spec.name) this.name = spec.name;
    if (spec.namespace) this.namespace = spec.namespace;
  }

  /** The service name and namespace this selector gives what it picks (empty when it gives none). */
  nameHint(): { name?: string; namespace?: string } {
    return { ...(this.name ? { name: this.name } : {}), ...(this.namespace ? { namespace: this.namespace } : {}) };
  }

  matches(p: SelectorFacts): boolean {
    if (this.pids && !this.pids.has(p.pid)) return false;
    if (this.exePath && !this.exePath.matches(p.exePath)) return false;
    if (this.openPorts) {
      if (!p.ports) return false;
      let any = false;
      for (const port of p.ports) if (this.openPorts.has(port)) any = true;
      if (!any) return false;
    }
    return true;
  }

  toString(): string {
    const parts: string[] = [];
    if (this.openPorts) parts.push(`open_ports=${this.openPorts}`);
    if (this.exePath) parts.push(`exe_path=${this.exePath}`);
    if (this.pids) parts.push(`pid=${[...this.pids].join(',')}`);
    return parts.join(' ');
  }
}
