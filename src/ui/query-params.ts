// Reading the API's query parameters: a bad value is a 400 naming the parameter.

export class BadParam extends Error {
  readonly param: string;
  constructor(param: string, expected: string, got: string) {
    super(`query parameter "${param}": expected ${expected}, got "${got.slice(0, 80)}"`);
    this.param = param;
  }
}

export function intParam(url: URL, name: string, opts: { min: number; max: number }): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < opts.min || n > opts.max) throw new BadParam(name, `an integer ${opts.min}..${opts.max}`, raw);
  return n;
}

export function numberParam(url: URL, name: string, opts: { min: number; max: number }): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < opts.min || n > opts.max) throw new BadParam(name, `a number ${opts.min}..${opts.max}`, raw);
  return n;
}

export function stringParam(url: URL, name: string, maxLength = 256): string | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  if (raw.length > maxLength) throw new BadParam(name, `at most ${maxLength} characters`, raw);
  return raw;
}

export function enumParam<T extends string>(url: URL, name: string, values: readonly T[]): T | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  if (!(values as readonly string[]).includes(raw)) throw new BadParam(name, `one of ${values.join(', ')}`, raw);
  return raw as T;
}

/** Decodes the rest of a path after `prefix` (e.g. a service name), or throws BadParam. */
export function pathRest(url: URL, prefix: string, name: string): string {
  const raw = url.pathname.slice(prefix.length);
  try {
    const v = decodeURIComponent(raw);
    if (v.length === 0 || v.length > 512) throw new Error('length');
    return v;
  } catch {
    throw new BadParam(name, 'a URL-encoded name', raw);
  }
}
