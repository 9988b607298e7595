// Configuration layers (file, environment, flags) merged into one raw object,
// remembering which layer set each key so an error can name where the bad
// value came from. Later layers win key by key; lists and scalars are replaced
// whole, mappings are merged.

export type Raw = Record<string, unknown>;

export interface Layer {
  /** e.g. "config.yaml", "environment WAGGLE_OPEN_PORT", "flag --open-port" */
  label: (path: readonly string[]) => string;
  values: Raw;
}

export function isPlainObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

export function setPath(target: Raw, path: readonly string[], value: unknown): void {
  let o = target;
  for (const key of path.slice(0, -1)) {
    const next = o[key];
    if (!isPlainObject(next)) o[key] = {};
    o = o[key] as Raw;
  }
  o[path[path.length - 1]!] = value;
}

export function getPath(source: unknown, path: readonly (string | number)[]): unknown {
  let o = source;
  for (const key of path) {
    if (o === null || typeof o !== 'object') return undefined;
    o = (o as Record<string | number, unknown>)[key];
  }
  return o;
}

/** Drops null values (an empty YAML key means "not set"). */
export function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isPlainObject(v)) return v;
  const out: Raw = {};
  for (const [k, val] of Object.entries(v)) if (val !== null) out[k] = dropNulls(val);
  return out;
}

export class Merged {
  readonly values: Raw = {};
  /** "a.b.c" → the label of the layer that set it. */
  private readonly sources = new Map<string, string>();

  add(layer: Layer): void {
    this.merge(this.values, layer.values, [], layer);
  }

  private merge(target: Raw, source: Raw, path: string[], layer: Layer): void {
    for (const [key, value] of Object.entries(source)) {
      const p = [...path, key];
      if (isPlainObject(value) && isPlainObject(target[key])) {
        this.merge(target[key] as Raw, value, p, layer);
        continue;
      }
      target[key] = value;
      this.forget(p);
      this.record(p, value, layer);
    }
  }

  private record(path: string[], value: unknown, layer: Layer): void {
    if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) this.record([...path, k], v, layer);
      if (Object.keys(value).length === 0) this.sources.set(path.join('.'), layer.label(path));
      return;
    }
    this.sources.set(path.join('.'), layer.label(path));
  }

  private forget(path: string[]): void {
    const prefix = `${path.join('.')}.`;
    for (const k of [...this.sources.keys()]) if (k.startsWith(prefix)) this.sources.delete(k);
  }

  /** The layer that set `path` or its closest ancestor. */
  sourceOf(path: readonly PropertyKey[]): string | undefined {
    const keys = path.map(String);
    for (let n = keys.length; n > 0; n--) {
      const s = this.sources.get(keys.slice(0, n).join('.'));
      if (s) return s;
    }
    return undefined;
  }
}
