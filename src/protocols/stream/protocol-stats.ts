// Per-protocol counters of the stream platform: what each module saw, parsed
// and could not, for /metrics. Parser counters of ended connections are folded
// in at retire(); live ones are added at snapshot time.
import type { ConnectionParser, Operation, ParserStats } from '../module.js';

export interface ProtocolStats {
  protocol: string;
  connections: number;
  chunks: number;
  /** Chunks the parser never got (ring full, undecided budget): holes it resynchronised across. */
  chunksLost: number;
  operations: number;
  /** Operations whose response never came (op.incomplete). */
  incomplete: number;
  unparsed: number;
  pendingOverflow: number;
  orphanResponses: number;
  /** The modules' own counters (ParserStats.events), summed. */
  events: Record<string, number>;
}

class Counter {
  connections = 0;
  chunks = 0;
  chunksLost = 0;
  operations = 0;
  incomplete = 0;
  readonly retired: ParserStats = { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 };
  readonly retiredEvents: Record<string, number> = {};

  connection(): void {
    this.connections++;
  }

  chunk(lost: number): void {
    this.chunks++;
    this.chunksLost += lost;
  }

  operation(op: Operation): void {
    this.operations++;
    if (op.incomplete) this.incomplete++;
  }

  retire(s: ParserStats): void {
    this.retired.unparsed += s.unparsed;
    this.retired.pendingOverflow += s.pendingOverflow;
    this.retired.orphanResponses += s.orphanResponses;
    if (s.events) addEvents(this.retiredEvents, s.events);
  }
}

export class ProtocolCounters {
  readonly #byProtocol = new Map<string, Counter>();

  of(protocol: string): Counter {
    let c = this.#byProtocol.get(protocol);
    if (c === undefined) this.#byProtocol.set(protocol, (c = new Counter()));
    return c;
  }

  snapshot(live: ReadonlyMap<string, readonly ConnectionParser[]>): ProtocolStats[] {
    return [...this.#byProtocol].map(([protocol, c]) => {
      const parsers = live.get(protocol) ?? [];
      const sum = (k: 'unparsed' | 'pendingOverflow' | 'orphanResponses') => c.retired[k] + parsers.reduce((a, p) => a + p.stats[k], 0);
      const events = { ...c.retiredEvents };
      for (const p of parsers) if (p.stats.events) addEvents(events, p.stats.events);
      return {
        protocol,
        connections: c.connections,
        chunks: c.chunks,
        chunksLost: c.chunksLost,
        operations: c.operations,
        incomplete: c.incomplete,
        unparsed: sum('unparsed'),
        pendingOverflow: sum('pendingOverflow'),
        orphanResponses: sum('orphanResponses'),
        events,
      };
    });
  }
}

function addEvents(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}
