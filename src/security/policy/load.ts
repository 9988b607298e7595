// Reads policy files (or directories of them), parses YAML and validates. A bad
// policy refuses the whole set with messages of the form
//   policies/x.yaml: spec.selectors[0].paths.prefix[2]: must start with /
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { MAX_POLICIES, MAX_SELECTORS_TOTAL } from './limits.js';
import { type Policy, PolicySchema } from './schema.js';

export interface LoadedPolicy {
  policy: Policy;
  /** File it came from (and document number when the file holds several). */
  source: string;
}

export class PolicyError extends Error {
  readonly code = 'WAGGLE_ERR_POLICY';
  constructor(readonly issues: string[]) {
    super(issues.length === 1 ? issues[0]! : `${issues.length} policy errors:\n  ${issues.join('\n  ')}`);
    this.name = 'PolicyError';
  }
}

/** `spec.selectors[0].paths.prefix[2]` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** The object keys a schema accepts at `path`, for "unknown field" messages. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let s: unknown = schema;
  const unwrap = (x: unknown): unknown => {
    let cur = x as { unwrap?: () => unknown; def?: { innerType?: unknown; in?: unknown; type?: string } };
    for (let i = 0; i < 8 && cur; i++) {
      if (cur.def?.type === 'pipe') cur = cur.def.in as typeof cur;
      else if (cur.def?.innerType) cur = cur.def.innerType as typeof cur;
      else break;
    }
    return cur;
  };
  for (const p of path) {
    s = unwrap(s);
    const node = s as { shape?: Record<string, unknown>; element?: unknown };
    if (typeof p === 'number') s = node.element;
    else s = node.shape?.[String(p)];
    if (!s) return undefined;
  }
  const shape = (unwrap(s) as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : undefined;
}

function describeType(expected: string): string {
  switch (expected) {
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping';
    case 'boolean':
      return 'true or false';
    default:
      return `a ${expected}`;
  }
}

/** Human messages for zod issues: "field: reason". */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const where = formatPath(issue.path);
    const at = (path: string, msg: string) => out.push(path ? `${path}: ${msg}` : msg);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const allowed = keysAt(PolicySchema, issue.path);
        for (const key of issue.keys) {
          at(formatPath([...issue.path, key]), `unknown field${allowed ? ` (allowed: ${allowed.join(', ')})` : ''}`);
        }
        break;
      }
      case 'invalid_type': {
        // The schema words its own type errors; zod's defaults are translated.
        if (!issue.message.startsWith('Invalid input')) at(where, issue.message);
        else if (issue.message.endsWith('received undefined')) at(where, 'is required');
        else at(where, `must be ${describeType(issue.expected)}`);
        break;
      }
      default:
        at(where, issue.message);
    }
  }
  return out;
}

/** Parses and validates every policy document in `text`; throws PolicyError. */
export function parsePolicies(text: string, file: string): LoadedPolicy[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const issues: string[] = [];
  const loaded: LoadedPolicy[] = [];
  const many = list.filter((d) => d.contents !== null).length > 1;
  let index = 0;
  for (const doc of list) {
    if (doc.contents === null && doc.errors.length === 0) continue;
    index++;
    const source = many ? `${file} (document ${index})` : file;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = e.linePos?.[0];
        const reason = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        issues.push(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${reason}`);
      }
      continue;
    }
    const result = PolicySchema.safeParse(doc.toJS());
    if (!result.success) {
      for (const m of formatIssues(result.error.issues)) issues.push(`${source}: ${m}`);
      continue;
    }
    loaded.push({ policy: result.data, source });
  }
  if (issues.length > 0) throw new PolicyError(issues);
  if (loaded.length === 0) throw new PolicyError([`${file}: holds no policy`]);
  return loaded;
}

function policyFiles(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new PolicyError([`${path}: no such file or directory`]);
  }
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()
    .map((n) => join(path, n));
}

/** Checks that hold across files: unique names, the number of policies and selectors. */
export function checkPolicySet(policies: readonly LoadedPolicy[]): void {
  const issues: string[] = [];
  const seen = new Map<string, string>();
  for (const { policy, source } of policies) {
    const first = seen.get(policy.metadata.name);
    if (first) issues.push(`${source}: metadata.name: "${policy.metadata.name}" is already used by ${first}`);
    else seen.set(policy.metadata.name, source);
  }
  if (policies.length > MAX_POLICIES) issues.push(`${policies.length} policies given; at most ${MAX_POLICIES} can be loaded`);
  const selectors = policies.reduce((n, p) => n + p.policy.spec.selectors.length, 0);
  if (selectors > MAX_SELECTORS_TOTAL) {
    issues.push(`${selectors} selectors in all policies; at most ${MAX_SELECTORS_TOTAL} can be loaded (the kernel evaluates them as one ${MAX_SELECTORS_TOTAL}-bit set)`);
  }
  if (issues.length > 0) throw new PolicyError(issues);
}

/** Loads files and directories (every *.yaml / *.yml inside, sorted), validated as one set. */
export function loadPolicies(paths: readonly string[]): LoadedPolicy[] {
  const issues: string[] = [];
  const loaded: LoadedPolicy[] = [];
  for (const file of paths.flatMap(policyFiles)) {
    try {
      loaded.push(...parsePolicies(readFileSync(file, 'utf8'), file));
    } catch (e) {
      if (e instanceof PolicyError) issues.push(...e.issues);
      else throw e;
    }
  }
  if (issues.length > 0) throw new PolicyError(issues);
  checkPolicySet(loaded);
  return loaded;
}
