// One security event as one line of JSON, the same text JSON.stringify would
// write (key order included), without re-serializing what events share: a
// process view or an ancestor list is frozen and shared by every event that
// names the process, so its JSON is written once and remembered (weakly, so it
// goes with the view). At thousands of execs a second the ancestors are most of
// every exec event's bytes.
import type { ProcessDetail, SecurityEvent } from '../events/types.js';

const memo = new WeakMap<object, string>();

/** JSON of a value; shared (frozen) objects and arrays are serialized once. */
function shared(v: unknown): string {
  if (typeof v !== 'object' || v === null || !Object.isFrozen(v)) return JSON.stringify(v);
  let s = memo.get(v);
  if (s === undefined) {
    s = Array.isArray(v) ? `[${v.map((x) => (x === undefined || typeof x === 'function' ? 'null' : shared(x))).join(',')}]` : JSON.stringify(v);
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

/**
 * A process detail (a fresh copy of a shared view plus parent and ancestors):
 * its fields in the order the builder writes them, shared parts from the memo.
 * Anything else falls back to the generic walk, so the text is always
 * JSON.stringify's (test/security/outputs.test.ts checks it on real events).
 */
function detailJson(d: ProcessDetail): string {
  if (!isPlainDetail(d)) return fields(d, processFields);
  let out = `{"pid":${d.pid},"exec_id":${JSON.stringify(d.exec_id)},"binary":${JSON.stringify(d.binary)},"arguments":${shared(d.arguments)},"cwd":${JSON.stringify(d.cwd)},"uid":${d.uid},"gid":${d.gid},"start_time":${JSON.stringify(d.start_time)},"in_container":${d.in_container},"flags":${shared(d.flags)}`;
  if (d.tid !== undefined) out += `,"tid":${d.tid}`;
  if (d.parent_exec_id !== undefined) out += `,"parent_exec_id":${JSON.stringify(d.parent_exec_id)}`;
  if (d.container_id !== undefined) out += `,"container_id":${JSON.stringify(d.container_id)}`;
  if (d.parent !== undefined) out += `,"parent":${shared(d.parent)}`;
  if (d.ancestors !== undefined) out += `,"ancestors":${shared(d.ancestors)}`;
  return `${out}}`;
}

const DETAIL_KEYS = ['pid', 'exec_id', 'binary', 'arguments', 'cwd', 'uid', 'gid', 'start_time', 'in_container', 'flags'];
const OPTIONAL_KEYS = ['tid', 'parent_exec_id', 'container_id', 'parent', 'ancestors'];

/** The keys, in order, that detailJson writes (and no others). */
function isPlainDetail(d: ProcessDetail): boolean {
  let i = 0;
  let opt = 0;
  for (const key in d) {
    if (i < DETAIL_KEYS.length) {
      if (key !== DETAIL_KEYS[i++]) return false;
      continue;
    }
    while (opt < OPTIONAL_KEYS.length && OPTIONAL_KEYS[opt] !== key) opt++;
    if (opt++ === OPTIONAL_KEYS.length) return false;
  }
  if (i !== DETAIL_KEYS.length) return false;
  return typeof d.pid === 'number' && typeof d.uid === 'number' && typeof d.gid === 'number' && typeof d.in_container === 'boolean' && (d.tid === undefined || typeof d.tid === 'number');
}

const eventFields = (key: string, v: unknown): string =>
  key === 'process' && typeof v === 'object' && v !== null && !Object.isFrozen(v) ? detailJson(v as ProcessDetail) : shared(v);

/** The event as JSON (no newline). */
export function eventJson(e: SecurityEvent): string {
  return fields(e, eventFields);
}
