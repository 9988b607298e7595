// Configured route patterns: `/users/{id}`, `/users/:id`, `/static/*`. A pattern
// matches segment by segment; `{x}`, `:x` and a lone `*` match one segment; a
// trailing `*` (alone, or as `/prefix*`) matches the rest of the path. The first
// pattern that matches, in configuration order, names the route.

type Segment = { kind: 'literal'; text: string } | { kind: 'param' } | { kind: 'rest'; prefix: string };

export interface CompiledPattern {
  pattern: string;
  segments: Segment[];
}

export class RoutePatternError extends Error {
  constructor(readonly pattern: string, reason: string) {
    super(`invalid route pattern ${JSON.stringify(pattern)}: ${reason}`);
  }
}

export function compilePattern(pattern: string): CompiledPattern {
  if (!pattern.startsWith('/')) throw new RoutePatternError(pattern, "it must start with '/'");
  const parts = pattern.slice(1).split('/');
  const segments: Segment[] = parts.map((p, i) => {
    const last = i === parts.length - 1;
    if (/^\{[^{}/]*\}$/.test(p) || /^:[^/]+$/.test(p)) return { kind: 'param' };
    if (p.endsWith('*')) {
      if (p === '*' && !last) return { kind: 'param' };
      if (!last) throw new RoutePatternError(pattern, "'*' after text is only allowed in the last segment");
      return { kind: 'rest', prefix: p.slice(0, -1) };
    }
    if (p.includes('{') || p.includes('}')) throw new RoutePatternError(pattern, `segment ${JSON.stringify(p)} mixes text and a {parameter}`);
    return { kind: 'literal', text: p };
  });
  return { pattern, segments };
}

/** True when `segments` (the path split on '/', without the leading '') matches. */
export function matchPattern(p: CompiledPattern, segments: readonly string[]): boolean {
  const n = p.segments.length;
  for (let i = 0; i < n; i++) {
    const s = p.segments[i]!;
    if (s.kind === 'rest') {
      const seg = segments[i];
      // `/static/*` also matches `/static` (nothing after the prefix).
      if (seg === undefined) return s.prefix === '' && i === segments.length;
      return seg.startsWith(s.prefix);
    }
    const seg = segments[i];
    if (seg === undefined) return false;
    if (s.kind === 'literal' && s.text !== seg) return false;
  }
  return segments.length === n;
}

export class RoutePatterns {
  readonly #compiled: CompiledPattern[];

  constructor(patterns: readonly string[]) {
    this.#compiled = patterns.map(compilePattern);
  }

  get size(): number {
    return this.#compiled.length;
  }

  /** The first configured pattern matching the path's segments, or undefined. */
  match(segments: readonly string[]): string | undefined {
    for (const p of this.#compiled) if (matchPattern(p, segments)) return p.pattern;
    return undefined;
  }
}
