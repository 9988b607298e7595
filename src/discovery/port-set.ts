// Port lists and ranges as users write them: "80,443,8000-8999". Parsing is
// total (a reason, never an exception) so the config layer can name the field.

export interface PortRange {
  from: number;
  to: number;
}

export type PortParse = { ok: true; value: PortRange } | { ok: false; reason: string };

const PORT = /^\d{1,5}$/;

function port(text: string): number | undefined {
  if (!PORT.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** One element: "80" or "8000-8999" (surrounding spaces allowed). */
export function parsePortRange(item: string | number): PortParse {
  const text = String(item).trim();
  const dash = text.indexOf('-');
  if (dash < 0) {
    const p = port(text);
    return p === undefined ? { ok: false, reason: `${JSON.stringify(String(item))} is not a port or a range` } : { ok: true, value: { from: p, to: p } };
  }
  const from = port(text.slice(0, dash).trim());
  const to = port(text.slice(dash + 1).trim());
  if (from === undefined || to === undefined) return { ok: false, reason: `${JSON.stringify(String(item))} is not a port or a range` };
  if (from > to) return { ok: false, reason: `${JSON.stringify(String(item))} is an empty range (${from} > ${to})` };
  return { ok: true, value: { from, to } };
}

/** Splits a comma-separated list into its elements (empty elements kept, so they can be reported). */
export function splitPortList(text: string): string[] {
  return text.split(',').map((s) => s.trim());
}

/** A set of ports built from ranges; membership is a scan of a few ranges. */
export class PortSet {
  readonly ranges: readonly PortRange[];

  constructor(ranges: Iterable<PortRange>) {
    this.ranges = Object.freeze([...ranges].sort((a, b) => a.from - b.from).map((r) => Object.freeze({ ...r })));
  }

  /** Parses "80,443,8000-8999"; throws with the reason for the first bad element. */
  static parse(text: string): PortSet {
    const ranges: PortRange[] = [];
    for (const item of splitPortList(text)) {
      const r = parsePortRange(item);
      if (!r.ok) throw new Error(r.reason);
      ranges.push(r.value);
    }
    return new PortSet(ranges);
  }

  has(port: number): boolean {
    for (const r of this.ranges) if (port >= r.from && port <= r.to) return true;
    return false;
  }

  /** Serialises as the list users write ("80,8000-8999"). */
  toJSON(): string {
    return this.toString();
  }

  toString(): string {
    return this.ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(',');
  }
}
