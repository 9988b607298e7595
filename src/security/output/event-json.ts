// One security event as one line of JSON, the same text JSON.stringify would
// write (key order included), without re-serializing what events share: a
// process view or an ancestor list is frozen and shared by every event that
// names the process, so its JSON is written once and remembered (weakly, so it
// goes with the view). At thousands of execs a second the ancestors are most of
// every exec event's bytes.
import { baseViewOf } from '../events/detail.js';
import type { ProcessDetail, SecurityEvent } from '../events/types.js';

const memo = new WeakMap<object, string>();

/** JSON of a value; shared (frozen) objects and arrays are serialized once. */
function shared(v: unknown): string {
  if (typeof v !== 'object' || v === null || !Object.isFrozen(v)) return JSON.stringify(v);
  let s = memo.get(v);
  if (s === undefined) {
    s = Array.isArray(v) ? `[${v.map(shared).join(',')}]` : JSON.stringify(v);
    memo.set(v, s);
  }
  return s;
}

/** An object's own enumerable fields, each through `shared` (undefined and functions skipped, as JSON.stringify does). */
function fields(o: object, nested: (key: string, v: unknown) => string): string {
  let out = '{';
  let first = true;
  for (const key in o) {
    const v = (o as Record<string, unknown>)[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${nested(key, v)}`;
    first = false;
  }
  return `${out}}`;
}

const processFields = (_key: string, v: unknown): string => shared(v);

/** A process detail: its own fields are its base view's (already serialized once), then parent and ancestors. */
function detailJson(d: ProcessDetail): string {
  const base = baseViewOf(d);
  if (base === undefined) return fields(d, processFields);
  const own = shared(base);
  let out = own.slice(0, -1);
  if (d.parent !== undefined) out += `,"parent":${shared(d.parent)}`;
  if (d.ancestors !== undefined) out += `,"ancestors":${shared(d.ancestors)}`;
  return `${out}}`;
}

const eventFields = (key: string, v: unknown): string =>
  key === 'process' && typeof v === 'object' && v !== null && !Object.isFrozen(v) ? detailJson(v as ProcessDetail) : shared(v);

/** The event as JSON (no newline). */
export function eventJson(e: SecurityEvent): string {
  return fields(e, eventFields);
}
