// waggle's security policy format (docs/policies.md): one YAML document per
// policy, shaped like a Tetragon TracingPolicy but with selectors named for
// what they match. Validated with zod; every refusal names the field.
import { isIP } from 'node:net';
import { z } from 'zod';
import {
  MAX_NAME_LENGTH,
  MAX_PATH_BYTES,
  MAX_RATE_LIMIT_MS,
  MAX_SELECTORS_PER_POLICY,
  MAX_SUFFIX_BYTES,
  MAX_VALUES_PER_LIST,
  MIN_RATE_LIMIT_MS,
} from './limits.js';

export const API_VERSION = 'waggle.dev/v1alpha1';
export const KIND = 'SecurityPolicy';

export const HOOKS = ['exec', 'file_open', 'connect', 'bind', 'setuid', 'ptrace', 'mount', 'module_load'] as const;
export type Hook = (typeof HOOKS)[number];

export const ACTIONS = ['post', 'sigkill', 'nopost', 'deny'] as const;
export type Action = (typeof ACTIONS)[number];

/** Hooks with a BPF LSM counterpart, where `deny` refuses the operation before it happens. */
export const DENY_HOOKS: readonly Hook[] = ['file_open', 'exec', 'connect'];
/** What a policy may ask for when this kernel cannot deny (absent: the policy is refused). */
export const DENY_FALLBACKS = ['sigkill'] as const;

export const OPEN_FLAGS = ['read', 'write', 'create', 'truncate'] as const;
export type OpenFlag = (typeof OPEN_FLAGS)[number];

export const SEVERITIES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'] as const;

const COMMON_FIELDS = ['binary', 'parentBinary', 'uid', 'pid', 'container', 'action', 'rateLimit', 'rateLimitScope'] as const;

/** Selector fields each hook understands; anything else is refused with the list. */
export const HOOK_FIELDS: Record<Hook, readonly string[]> = {
  exec: COMMON_FIELDS,
  file_open: [...COMMON_FIELDS, 'paths', 'flags'],
  connect: [...COMMON_FIELDS, 'destination'],
  bind: [...COMMON_FIELDS, 'address'],
  setuid: COMMON_FIELDS,
  ptrace: COMMON_FIELDS,
  mount: COMMON_FIELDS,
  module_load: COMMON_FIELDS,
};

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

/** A type error: "is required" when the field is absent, `message` otherwise. */
const typeError = (message: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : message) });

function list<T extends z.ZodType>(item: T) {
  return z
    .array(item, typeError('must be a list'))
    .min(1, { error: 'must not be empty (leave the field out instead)' })
    .max(MAX_VALUES_PER_LIST, { error: `has more than ${MAX_VALUES_PER_LIST} values (limit per list)` });
}

const pathString = z
  .string(typeError('must be a string'))
  .min(1, { error: 'must not be empty' })
  .refine((s) => !s.includes('\0'), { error: 'must not contain NUL' })
  .refine((s) => byteLength(s) <= MAX_PATH_BYTES, { error: `is longer than ${MAX_PATH_BYTES} bytes (limit for path values)` });

/** Every object of the format: absent → "is required", another type → "must be a mapping". */
const mapping = typeError('must be a mapping');

const suffixString = pathString.refine((s) => byteLength(s) <= MAX_SUFFIX_BYTES, { error: `is longer than ${MAX_SUFFIX_BYTES} bytes (limit for suffix values)` });

const absolutePath = pathString.refine((s) => s.startsWith('/'), { error: 'must start with /' });

const PathsSchema = z.strictObject({
  equal: list(absolutePath).optional(),
  prefix: list(absolutePath).optional(),
  suffix: list(suffixString).optional(),
  notEqual: list(absolutePath).optional(),
  notPrefix: list(absolutePath).optional(),
  notSuffix: list(suffixString).optional(),
}, mapping);

const BinarySchema = z.strictObject({
  equal: list(absolutePath).optional(),
  prefix: list(absolutePath).optional(),
  notEqual: list(absolutePath).optional(),
  notPrefix: list(absolutePath).optional(),
}, mapping);

const id32 = z
  .number(typeError('must be a number'))
  .int({ error: 'must be an integer' })
  .min(0, { error: 'must be at least 0' })
  .max(0xfffffffe, { error: 'must be at most 4294967294' });

const IdSchema = z.strictObject({
  in: list(id32).optional(),
  notIn: list(id32).optional(),
}, mapping);

/** "10.0.0.0/8", "::1/128", or a bare address (one host). */
export function parseCidr(s: string): { address: string; bits: number; family: 4 | 6 } | undefined {
  const [address = '', len, ...rest] = s.split('/');
  if (rest.length > 0) return undefined;
  const family = isIP(address);
  if (family !== 4 && family !== 6) return undefined;
  const max = family === 4 ? 32 : 128;
  if (len === undefined) return { address, bits: max, family };
  if (!/^\d{1,3}$/.test(len) || Number(len) > max) return undefined;
  return { address, bits: Number(len), family };
}

const cidr = z
  .string(typeError('must be a string'))
  .refine((s) => parseCidr(s) !== undefined, { error: 'must be an IPv4 or IPv6 address or CIDR (e.g. 10.0.0.0/8, ::1/128)' });

const port = z
  .number(typeError('must be a number'))
  .int({ error: 'must be an integer' })
  .min(0, { error: 'must be a port number (0-65535)' })
  .max(65535, { error: 'must be a port number (0-65535)' });

const AddressSchema = z.strictObject({
  cidr: list(cidr).optional(),
  notCidr: list(cidr).optional(),
  ports: list(port).optional(),
  notPorts: list(port).optional(),
}, mapping);

/** "500ms", "30s", "5m", "1h" → milliseconds. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h)$/.exec(s);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

const rateLimit = z
  .string(typeError('must be a duration such as "30s", "5m" or "1h"'))
  .refine((s) => parseDuration(s) !== undefined, { error: 'must be a duration such as "30s", "5m" or "1h"' })
  .refine(
    (s) => {
      const ms = parseDuration(s);
      return ms === undefined || (ms >= MIN_RATE_LIMIT_MS && ms <= MAX_RATE_LIMIT_MS);
    },
    { error: `must be between ${MIN_RATE_LIMIT_MS}ms and 24h` },
  );

export const SelectorSchema = z.strictObject({
  paths: PathsSchema.optional(),
  flags: list(z.enum(OPEN_FLAGS, typeError(`must be one of: ${OPEN_FLAGS.join(', ')}`))).optional(),
  binary: BinarySchema.optional(),
  parentBinary: BinarySchema.optional(),
  uid: IdSchema.optional(),
  pid: IdSchema.optional(),
  container: z.boolean(typeError('must be true (only in containers) or false (only on the host)')).optional(),
  destination: AddressSchema.optional(),
  address: AddressSchema.optional(),
  action: z.enum(ACTIONS, typeError(`must be one of: ${ACTIONS.join(', ')}`)).default('post'),
  rateLimit: rateLimit.optional(),
  rateLimitScope: z.enum(['process', 'global'], typeError('must be one of: process, global')).optional(),
}, mapping);


export const PolicySchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION, typeError(`must be "${API_VERSION}"`)),
    kind: z.literal(KIND, typeError(`must be "${KIND}"`)),
    metadata: z.strictObject({
      name: z
        .string(typeError('must be a string'))
        .max(MAX_NAME_LENGTH, { error: `must be at most ${MAX_NAME_LENGTH} characters` })
        .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, { error: 'must be lowercase letters, digits and dashes (a DNS label)' }),
      description: z.string(typeError('must be a string')).optional(),
      severity: z.enum(SEVERITIES, typeError(`must be one of: ${SEVERITIES.join(', ')}`)).optional(),
      tags: z.array(z.string(typeError('must be a string')), typeError('must be a list')).optional(),
    }, mapping),
    spec: z.strictObject({
      hook: z.enum(HOOKS, typeError(`must be one of: ${HOOKS.join(', ')}`)),
      mode: z.enum(['enforce', 'monitor'], typeError('must be one of: enforce, monitor')).default('enforce'),
      denyFallback: z.enum(DENY_FALLBACKS, typeError(`must be one of: ${DENY_FALLBACKS.join(', ')}`)).optional(),
      selectors: z
        .array(SelectorSchema, typeError('must be a list'))
        .min(1, { error: 'must not be empty (leave it out to match every operation of the hook)' })
        .max(MAX_SELECTORS_PER_POLICY, { error: `has more than ${MAX_SELECTORS_PER_POLICY} selectors (limit per policy)` })
        .default([{ action: 'post' }]),
    }, mapping),
  }, mapping)
  .superRefine((p, ctx) => {
    const allowed = HOOK_FIELDS[p.spec.hook];
    if (p.spec.denyFallback && !p.spec.selectors.some((s) => s.action === 'deny')) {
      ctx.addIssue({ code: 'custom', path: ['spec', 'denyFallback'], message: 'has no effect without a selector whose action is deny' });
    }
    p.spec.selectors.forEach((sel, i) => {
      for (const [key, value] of Object.entries(sel)) {
        if (value === undefined || allowed.includes(key)) continue;
        ctx.addIssue({
          code: 'custom',
          path: ['spec', 'selectors', i, key],
          message: `not available on hook ${p.spec.hook} (available: ${allowed.join(', ')})`,
        });
      }
      if (sel.action === 'deny' && !DENY_HOOKS.includes(p.spec.hook)) {
        ctx.addIssue({
          code: 'custom',
          path: ['spec', 'selectors', i, 'action'],
          message: `deny is available on hooks ${DENY_HOOKS.join(', ')} only (those with a BPF LSM hook), not ${p.spec.hook}`,
        });
      }
      if (sel.rateLimitScope && !sel.rateLimit) {
        ctx.addIssue({ code: 'custom', path: ['spec', 'selectors', i, 'rateLimitScope'], message: 'needs rateLimit' });
      }
      if (sel.rateLimit && sel.action === 'nopost') {
        ctx.addIssue({ code: 'custom', path: ['spec', 'selectors', i, 'rateLimit'], message: 'has no effect with action nopost' });
      }
      for (const field of ['paths', 'binary', 'parentBinary', 'uid', 'pid', 'destination', 'address'] as const) {
        const v = sel[field];
        if (v && Object.values(v).every((x) => x === undefined)) {
          ctx.addIssue({ code: 'custom', path: ['spec', 'selectors', i, field], message: 'must hold at least one list' });
        }
      }
    });
  });

export type Policy = z.output<typeof PolicySchema>;
export type Selector = Policy['spec']['selectors'][number];
export type AddressSelector = z.output<typeof AddressSchema>;
export type BinarySelector = z.output<typeof BinarySchema>;
export type PathSelector = z.output<typeof PathsSchema>;
export type IdSelector = z.output<typeof IdSchema>;
