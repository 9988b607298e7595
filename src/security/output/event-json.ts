// One security event as one line of JSON, the same text JSON.stringify would
// write (key order included), without re-serializing what events share: a
// process view or an ancestor list is frozen and shared by every event that
// names the process, so its JSON is written once and remembered (weakly, so it
// goes with the view). At thousands of execs a second the ancestors are most of
// every exec event's bytes.
import type { ProcessDetail, SecurityEvent } from '../events/types.js';

/** Where event JSON goes: text, and shared (frozen) values whose JSON the sink may keep ready. */
export interface JsonSink {
  text(s: string): void;
  shared(v: object): void;
}

const memo = new WeakMap<object, string>();
const isShared = (v: unknown): v is object => typeof v === 'object' && v !== null && Object.isFrozen(v);

/** JSON of a value; shared (frozen) objects and arrays are serialized once. */
export function sharedJson(v: unknown): string {
  if (!isShared(v)) return JSON.stringify(v);
  let s = memo.get(v);
  if (s === undefined) {
    s = Array.isArray(v) ? `[${v.map((x) => (x === undefined || typeof x === 'function' ? 'null' : sharedJson(x))).join(',')}]` : JSON.stringify(v);
    memo.set(v, s);
  }
  return s;
}
const shared = sharedJson;

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
 * its fields in the order the builder writes them, shared parts through the sink.
 * Anything else falls back to the generic walk, so the text is always
 * JSON.stringify's (test/security/outputs.test.ts checks it on real events).
 */
function writeDetail(d: ProcessDetail, out: JsonSink): void {
  if (!isPlainDetail(d)) return out.text(fields(d, processFields));
  let own = `{"pid":${d.pid},"exec_id":${JSON.stringify(d.exec_id)},"binary":${JSON.stringify(d.binary)},"arguments":${shared(d.arguments)},"cwd":${JSON.stringify(d.cwd)},"uid":${d.uid},"gid":${d.gid},"start_time":${JSON.stringify(d.start_time)},"in_container":${d.in_container},"flags":${shared(d.flags)}`;
  if (d.tid !== undefined) own += `,"tid":${d.tid}`;
  if (d.parent_exec_id !== undefined) own += `,"parent_exec_id":${JSON.stringify(d.parent_exec_id)}`;
  if (d.container_id !== undefined) own += `,"container_id":${JSON.stringify(d.container_id)}`;
  out.text(own);
  if (d.parent !== undefined) {
    out.text(',"parent":');
    writeValue(d.parent, out);
  }
  if (d.ancestors !== undefined) {
    out.text(',"ancestors":');
    writeValue(d.ancestors, out);
  }
  out.text('}');
}

function writeValue(v: unknown, out: JsonSink): void {
  if (isShared(v)) out.shared(v);
  else out.text(JSON.stringify(v));
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

/** Writes the event's JSON (no newline) to a sink. */
export function writeEventJson(e: SecurityEvent, out: JsonSink): void {
  let first = true;
  for (const key in e) {
    const v = (e as unknown as Record<string, unknown>)[key];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out.text(`${first ? '{' : ','}${JSON.stringify(key)}:`);
    first = false;
    if (key === 'process' && typeof v === 'object' && v !== null && !Object.isFrozen(v)) writeDetail(v as ProcessDetail, out);
    else writeValue(v, out);
  }
  out.text(first ? '{}' : '}');
}

class StringSink implements JsonSink {
  out = '';
  text(s: string): void {
    this.out += s;
  }
  shared(v: object): void {
    this.out += sharedJson(v);
  }
}

/** The event as JSON (no newline). */
export function eventJson(e: SecurityEvent): string {
  const sink = new StringSink();
  writeEventJson(e, sink);
  return sink.out;
}
