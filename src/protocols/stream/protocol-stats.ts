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
}

class Counter {
  connections = 0;
  chunks = 0;
  chunksLost = 0;
  operations = 0;
  incomplete = 0;
  readonly retired: ParserStats = { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 };

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
      const sum = (k: keyof ParserStats) => c.retired[k] + parsers.reduce((a, p) => a + p.stats[k], 0);
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
      };
    });
  }
}
