// loadConfig: defaults < config file < environment < flags, validated as one,
// returned frozen. Every problem names its source and key:
//   config.yaml: discovery.open_ports[1]: "80x" is not a port or a range
//   environment WAGGLE_LISTEN: listen: "nowhere" is not HOST:PORT (…)
//   flag --pid: discovery.pid[0]: "abc" is not a process id
import { readFileSync } from 'node:fs';
import { Option } from 'commander';
import YAML from 'yaml';
import type { PortSet } from '../../discovery/index.js';
import type { OtlpConfig } from '../../export/otlp-config.js';
import { type ConfigProblem, ConfigError, didYouMean, formatPath } from './errors.js';
import { type Layer, Merged, type Raw, dropNulls, isPlainObject, setPath } from './layers.js';
import { resolveOtlp } from './otel-env.js';
import { type ParsedConfig, configSchema } from './schema.js';
import { knownKeys } from './schema-keys.js';
import { CONFIG_ENV, FOREIGN_WAGGLE_ENV, SETTINGS } from './settings.js';

type DeepReadonly<T> = T extends PortSet | ((...args: never[]) => unknown)
  ? T
  : T extends (infer E)[]
    ? readonly DeepReadonly<E>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export type AgentConfig = DeepReadonly<
  Omit<ParsedConfig, 'otlp'> & {
    /** Resolved OTLP export settings; a signal is absent when it has no endpoint. */
    otlp: OtlpConfig;
    /** The config file that was read, if any. */
    configFile?: string;
  }
>;

export interface LoadConfigOptions {
  /** Parsed flags of `waggle run` (commander's `command.opts()`); other keys are ignored. */
  flags?: Record<string, unknown>;
  /** Environment (default process.env). */
  env?: Record<string, string | undefined>;
  /** Config file; `flags.config` wins, then this, then $WAGGLE_CONFIG. */
  configPath?: string;
}

/** Commander's attribute name for a flag spec: '--open-port <list>' → 'openPort', '--no-ui' → 'ui'. */
export function flagAttribute(flag: string): string {
  return new Option(flag).attributeName();
}

function flagLabel(flag: string): string {
  return `flag ${flag.split(' ')[0]}`;
}

function readFileLayer(path: string, problems: ConfigProblem[]): Raw | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    problems.push({ source: path, path: '', message: `cannot read the file (${(e as Error).message})` });
    return undefined;
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const at = err.linePos?.[0];
      const message = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:$/, '');
      problems.push({ source: path, path: '', message: `${at ? `line ${at.line}, column ${at.col}: ` : ''}${message}` });
    }
    return undefined;
  }
  const value = dropNulls(doc.toJS());
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) {
    problems.push({ source: path, path: '', message: 'the file must be a mapping of settings (key: value)' });
    return undefined;
  }
  return value;
}

function envLayer(env: Record<string, string | undefined>, problems: ConfigProblem[]): Layer {
  const values: Raw = {};
  const names = new Map<string, string>();
  const known = new Set<string>([CONFIG_ENV, ...FOREIGN_WAGGLE_ENV]);
  for (const s of SETTINGS) {
    if (!s.env) continue;
    known.add(s.env);
    if ((s.otel && s.path?.[0] === 'otlp') || !s.path) continue;
    const v = env[s.env];
    if (v === undefined || v.trim() === '') continue;
    setPath(values, s.path, v);
    names.set(s.path.join('.'), s.env);
  }
  for (const name of Object.keys(env)) {
    if (!name.startsWith('WAGGLE_') || known.has(name)) continue;
    const guess = didYouMean(name, [...known].filter((k) => k.startsWith('WAGGLE_')));
    problems.push({ source: `environment ${name}`, path: '', message: `unknown variable${guess ? ` (did you mean ${guess}?)` : ''}` });
  }
  return { values, label: (path) => `environment ${names.get(path.join('.')) ?? '?'}` };
}

function flagLayer(flags: Record<string, unknown>): Layer {
  const values: Raw = {};
  const labels = new Map<string, string>();
  for (const s of SETTINGS) {
    if (!s.flag || (s.otel && s.path?.[0] === 'otlp') || !s.path) continue;
    const v = flags[flagAttribute(s.flag)];
    if (v === undefined) continue;
    setPath(values, s.path, v);
    labels.set(s.path.join('.'), flagLabel(s.flag));
  }
  return { values, label: (path) => labels.get(path.join('.')) ?? 'flags' };
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

const PER_PROCESS_ATTRIBUTES = ['service.name', 'service.namespace', 'service.instance.id'];

/** Loads, merges and validates the configuration; throws ConfigError listing every problem. */
export function loadConfig(opts: LoadConfigOptions = {}): AgentConfig {
  const flags = opts.flags ?? {};
  const env = opts.env ?? process.env;
  const problems: ConfigProblem[] = [];
  const flagConfig = typeof flags.config === 'string' ? flags.config : undefined;
  const envConfig = env[CONFIG_ENV]?.trim() || undefined;
  const configFile = flagConfig ?? opts.configPath ?? envConfig;

  const merged = new Merged();
  if (configFile !== undefined) {
    const values = readFileLayer(configFile, problems);
    if (values) merged.add({ values, label: () => configFile });
  }
  merged.add(envLayer(env, problems));
  merged.add(flagLayer(flags));

  const parsed = configSchema.safeParse(merged.values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const guess = didYouMean(key, knownKeys(configSchema, issue.path));
          problems.push({
            source: merged.sourceOf([...issue.path, key]) ?? configFile ?? 'configuration',
            path: formatPath([...issue.path, key]),
            message: `unknown key${guess ? ` (did you mean "${guess}"?)` : ''}`,
          });
        }
      } else {
        problems.push({ source: merged.sourceOf(issue.path) ?? 'defaults', path: formatPath(issue.path), message: issue.message });
      }
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const config = parsed.data;

  const fromFile = (section: 'otlp' | 'traces') => configFile !== undefined && isPlainObject(merged.values[section]);
  const file = { ...(fromFile('otlp') ? { otlp: config.otlp } : {}), ...(fromFile('traces') ? { traces: config.traces } : {}) };
  const otlp = resolveOtlp({ file, ...(configFile !== undefined ? { fileLabel: configFile } : {}), env, flags, flagName: flagAttribute });
  if ('problems' in otlp) throw new ConfigError(otlp.problems);

  // The agent's own OTEL_RESOURCE_ATTRIBUTES: service.* name the default service;
  // the rest are added to every exported resource.
  const attrs = { ...config.resource_attributes };
  const service = { ...config.service };
  if (service.name === undefined && attrs['service.name']) service.name = attrs['service.name'];
  if (service.namespace === undefined && attrs['service.namespace']) service.namespace = attrs['service.namespace'];
  for (const k of PER_PROCESS_ATTRIBUTES) delete attrs[k];

  const { otlp: _fileOtlp, ...rest } = config;
  void _fileOtlp;
  const out = { ...rest, service, resource_attributes: attrs, otlp: otlp.otlp, ...(configFile !== undefined ? { configFile } : {}) };
  return deepFreeze(out) as AgentConfig;
}
