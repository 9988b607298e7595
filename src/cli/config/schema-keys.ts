// The keys a mapping of the config schema accepts, found by walking the zod
// schema itself (so suggestions for unknown keys cannot drift from it).
import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
}

function def(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

function unwrap(s: z.ZodType): z.ZodType {
  for (let i = 0; i < 16; i++) {
    const d = def(s);
    if (d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else break;
  }
  return s;
}

export function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s = unwrap(schema);
  for (const key of path) {
    const d = def(s);
    if (d.type === 'array' && d.element && typeof key === 'number') s = unwrap(d.element);
    else if (d.shape && typeof key === 'string' && d.shape[key]) s = unwrap(d.shape[key]);
    else return [];
  }
  return Object.keys(def(s).shape ?? {});
}
