// waggle-test: no-kernel
// Every invalid policy is refused with the file, the field and the reason.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PolicyError, binaryAliasWarnings, checkPolicySet, compilePolicies, defaultPolicyDir, limits, loadPolicies, parsePolicies } from '../../src/security/index.js';

const HEAD = 'apiVersion: waggle.dev/v1alpha1\nkind: SecurityPolicy\nmetadata: {name: p}\n';

/** A file_open policy with the given selector lines (indented under selectors:). */
const fileSel = (sel: string) => `${HEAD}spec:\n  hook: file_open\n  selectors:\n    - ${sel.split('\n').join('\n      ')}\n`;

const CASES: { name: string; yaml: string; errors: string[] }[] = [
  {
    name: 'relative prefix',
    yaml: fileSel('paths: {prefix: [/etc/, /usr/, tmp/]}'),
    errors: ['x.yaml: spec.selectors[0].paths.prefix[2]: must start with /'],
  },
  {
    name: 'unknown selector field',
    yaml: fileSel('paths: {equal: [/etc/shadow]}\npathz: {equal: [/x]}'),
    errors: [
      'x.yaml: spec.selectors[0].pathz: unknown field (allowed: paths, flags, binary, parentBinary, uid, pid, container, destination, address, action, rateLimit, rateLimitScope)',
    ],
  },
  {
    name: 'unknown path operator',
    yaml: fileSel('paths: {startsWith: [/etc/]}'),
    errors: [
      'x.yaml: spec.selectors[0].paths.startsWith: unknown field (allowed: equal, prefix, suffix, notEqual, notPrefix, notSuffix)',
      'x.yaml: spec.selectors[0].paths: must hold at least one list',
    ],
  },
  {
    name: 'wrong apiVersion',
    yaml: fileSel('paths: {equal: [/etc/shadow]}').replace('waggle.dev/v1alpha1', 'cilium.io/v1alpha1'),
    errors: ['x.yaml: apiVersion: must be "waggle.dev/v1alpha1"'],
  },
  {
    name: 'Tetragon kind',
    yaml: fileSel('paths: {equal: [/etc/shadow]}').replace('SecurityPolicy', 'TracingPolicy'),
    errors: ['x.yaml: kind: must be "SecurityPolicy"'],
  },
  {
    name: 'missing name',
    yaml: fileSel('paths: {equal: [/etc/shadow]}').replace('metadata: {name: p}', 'metadata: {description: x}'),
    errors: ['x.yaml: metadata.name: is required'],
  },
  {
    name: 'name not a DNS label',
    yaml: fileSel('paths: {equal: [/etc/shadow]}').replace('name: p', 'name: Shadow_Guard'),
    errors: ['x.yaml: metadata.name: must be lowercase letters, digits and dashes (a DNS label)'],
  },
  {
    name: 'unknown hook',
    yaml: `${HEAD}spec:\n  hook: kprobe\n`,
    errors: ['x.yaml: spec.hook: must be one of: exec, file_open, connect, bind, setuid, ptrace, mount, module_load'],
  },
  {
    name: 'missing hook',
    yaml: `${HEAD}spec:\n  selectors: [{action: post}]\n`,
    errors: ['x.yaml: spec.hook: is required'],
  },
  {
    name: 'unknown action',
    yaml: fileSel('paths: {equal: [/etc/shadow]}\naction: override'),
    errors: ['x.yaml: spec.selectors[0].action: must be one of: post, sigkill, nopost, deny'],
  },
  {
    name: 'unknown open flag',
    yaml: fileSel('flags: [read, exec]'),
    errors: ['x.yaml: spec.selectors[0].flags[1]: must be one of: read, write, create, truncate'],
  },
  {
    name: 'selector field not on this hook',
    yaml: fileSel('destination: {ports: [22]}'),
    errors: ['x.yaml: spec.selectors[0].destination: not available on hook file_open (available: binary, parentBinary, uid, pid, container, action, rateLimit, rateLimitScope, paths, flags)'],
  },
  {
    name: 'paths on a connect hook',
    yaml: `${HEAD}spec:\n  hook: connect\n  selectors:\n    - paths: {prefix: [/etc/]}\n`,
    errors: ['x.yaml: spec.selectors[0].paths: not available on hook connect (available: binary, parentBinary, uid, pid, container, action, rateLimit, rateLimitScope, destination)'],
  },
  {
    name: 'bad CIDR',
    yaml: `${HEAD}spec:\n  hook: connect\n  selectors:\n    - destination: {cidr: [10.0.0.0/8, 10.0.0.0/33]}\n`,
    errors: ['x.yaml: spec.selectors[0].destination.cidr[1]: must be an IPv4 or IPv6 address or CIDR (e.g. 10.0.0.0/8, ::1/128)'],
  },
  {
    name: 'port out of range',
    yaml: `${HEAD}spec:\n  hook: connect\n  selectors:\n    - destination: {ports: [443, 70000]}\n`,
    errors: ['x.yaml: spec.selectors[0].destination.ports[1]: must be a port number (0-65535)'],
  },
  {
    name: 'port as a string',
    yaml: `${HEAD}spec:\n  hook: connect\n  selectors:\n    - destination: {ports: ["443"]}\n`,
    errors: ['x.yaml: spec.selectors[0].destination.ports[0]: must be a number'],
  },
  {
    name: 'negative uid',
    yaml: fileSel('uid: {in: [-1]}'),
    errors: ['x.yaml: spec.selectors[0].uid.in[0]: must be at least 0'],
  },
  {
    name: 'empty list',
    yaml: fileSel('paths: {equal: []}'),
    errors: ['x.yaml: spec.selectors[0].paths.equal: must not be empty (leave the field out instead)'],
  },
  {
    name: 'empty operator map',
    yaml: fileSel('binary: {}'),
    errors: ['x.yaml: spec.selectors[0].binary: must hold at least one list'],
  },
  {
    name: 'list given as a string',
    yaml: fileSel('paths: {equal: /etc/shadow}'),
    errors: ['x.yaml: spec.selectors[0].paths.equal: must be a list'],
  },
  {
    name: 'path too long',
    yaml: fileSel(`paths: {prefix: [/${'a'.repeat(limits.MAX_PATH_BYTES)}]}`),
    errors: [`x.yaml: spec.selectors[0].paths.prefix[0]: is longer than ${limits.MAX_PATH_BYTES} bytes (limit for path values)`],
  },
  {
    name: 'suffix too long',
    yaml: fileSel(`paths: {suffix: [/${'b'.repeat(limits.MAX_SUFFIX_BYTES)}]}`),
    errors: [`x.yaml: spec.selectors[0].paths.suffix[0]: is longer than ${limits.MAX_SUFFIX_BYTES} bytes (limit for suffix values)`],
  },
  {
    name: 'too many values in a list',
    yaml: fileSel(`paths: {equal: [${Array.from({ length: limits.MAX_VALUES_PER_LIST + 1 }, (_, i) => `/f${i}`).join(', ')}]}`),
    errors: [`x.yaml: spec.selectors[0].paths.equal: has more than ${limits.MAX_VALUES_PER_LIST} values (limit per list)`],
  },
  {
    name: 'too many selectors in a policy',
    yaml: `${HEAD}spec:\n  hook: exec\n  selectors:\n${'    - {action: post}\n'.repeat(limits.MAX_SELECTORS_PER_POLICY + 1)}`,
    errors: [`x.yaml: spec.selectors: has more than ${limits.MAX_SELECTORS_PER_POLICY} selectors (limit per policy)`],
  },
  {
    name: 'bad rate limit',
    yaml: fileSel('paths: {equal: [/etc/shadow]}\nrateLimit: 5 minutes'),
    errors: ['x.yaml: spec.selectors[0].rateLimit: must be a duration such as "30s", "5m" or "1h"'],
  },
  {
    name: 'rate limit too short',
    yaml: fileSel('paths: {equal: [/etc/shadow]}\nrateLimit: 10ms'),
    errors: ['x.yaml: spec.selectors[0].rateLimit: must be between 100ms and 24h'],
  },
  {
    name: 'rate limit scope without rate limit',
    yaml: fileSel('paths: {equal: [/etc/shadow]}\nrateLimitScope: global'),
    errors: ['x.yaml: spec.selectors[0].rateLimitScope: needs rateLimit'],
  },
  {
    name: 'container not a boolean',
    yaml: fileSel('container: yes please'),
    errors: ['x.yaml: spec.selectors[0].container: must be true (only in containers) or false (only on the host)'],
  },
  {
    name: 'unknown mode',
    yaml: `${HEAD}spec:\n  hook: exec\n  mode: audit\n`,
    errors: ['x.yaml: spec.mode: must be one of: enforce, monitor'],
  },
  {
    name: 'two errors at once',
    yaml: fileSel('paths: {prefix: [etc/]}\naction: kill'),
    errors: ['x.yaml: spec.selectors[0].paths.prefix[0]: must start with /', 'x.yaml: spec.selectors[0].action: must be one of: post, sigkill, nopost, deny'],
  },
  {
    name: 'YAML syntax error',
    yaml: `${HEAD}spec:\n  hook: exec\n  selectors: [{action: post}\n`,
    errors: ['x.yaml:7:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
  },
  {
    name: 'duplicate key',
    yaml: `${HEAD}spec:\n  hook: exec\n  hook: file_open\n`,
    errors: ['x.yaml:6:3: invalid YAML: Map keys must be unique'],
  },
  {
    name: 'not a mapping',
    yaml: '- just\n- a list\n',
    errors: ['x.yaml: must be a mapping'],
  },
  {
    name: 'empty file',
    yaml: '# nothing here\n',
    errors: ['x.yaml: holds no policy'],
  },
  {
    name: 'deny on a hook without a BPF LSM counterpart',
    yaml: `${HEAD}spec:\n  hook: setuid\n  selectors: [{action: deny}]\n`,
    errors: ['x.yaml: spec.selectors[0].action: deny is available on hooks file_open, exec, connect only (those with a BPF LSM hook), not setuid'],
  },
  {
    name: 'denyFallback without a deny selector',
    yaml: `${HEAD}spec:\n  hook: file_open\n  denyFallback: sigkill\n  selectors: [{action: sigkill}]\n`,
    errors: ['x.yaml: spec.denyFallback: has no effect without a selector whose action is deny'],
  },
  {
    name: 'unknown denyFallback',
    yaml: `${HEAD}spec:\n  hook: file_open\n  denyFallback: post\n  selectors: [{action: deny}]\n`,
    errors: ['x.yaml: spec.denyFallback: must be one of: sigkill'],
  },
];

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PolicyError, `expected a PolicyError, got ${String(e)}`);
    return e.issues;
  }
  assert.fail('the policy was accepted');
}

describe('invalid policies are refused with file, field and reason', () => {
  for (const c of CASES) {
    test(c.name, () => assert.deepEqual(errorsOf(() => parsePolicies(c.yaml, 'x.yaml')), c.errors));
  }

  test('the second document of a file is named', () => {
    const good = fileSel('paths: {equal: [/etc/shadow]}');
    const bad = fileSel('paths: {equal: [etc/shadow]}').replace('name: p', 'name: q');
    assert.deepEqual(errorsOf(() => parsePolicies(`${good}---\n${bad}`, 'x.yaml')), ['x.yaml (document 2): spec.selectors[0].paths.equal[0]: must start with /']);
  });
});

/** A temporary directory holding the given files, removed after `fn`. */
function withFiles(files: Record<string, string>, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'waggle-policies-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('limits across files', () => {
  test('names must be unique', () => {
    withFiles({ 'a.yaml': fileSel('paths: {equal: [/etc/shadow]}'), 'b.yaml': fileSel('paths: {equal: [/etc/gshadow]}') }, (d) => {
      assert.deepEqual(errorsOf(() => loadPolicies([d])), [`${join(d, 'b.yaml')}: metadata.name: "p" is already used by ${join(d, 'a.yaml')}`]);
    });
  });

  test(`at most ${limits.MAX_POLICIES} policies`, () => {
    const many = Array.from({ length: limits.MAX_POLICIES + 1 }, (_, i) => parsePolicies(fileSel('flags: [write]').replace('name: p', `name: p${i}`), `p${i}.yaml`)).flat();
    assert.deepEqual(errorsOf(() => checkPolicySet(many)), [`${limits.MAX_POLICIES + 1} policies given; at most ${limits.MAX_POLICIES} can be loaded`]);
  });

  test(`at most ${limits.MAX_SELECTORS_TOTAL} selectors in all policies`, () => {
    const eight = `${HEAD}spec:\n  hook: exec\n  selectors:\n${'    - {action: post}\n'.repeat(8)}`;
    const many = Array.from({ length: 17 }, (_, i) => parsePolicies(eight.replace('name: p', `name: p${i}`), `p${i}.yaml`)).flat();
    assert.deepEqual(errorsOf(() => checkPolicySet(many)), [
      `136 selectors in all policies; at most ${limits.MAX_SELECTORS_TOTAL} can be loaded (the kernel evaluates them as one ${limits.MAX_SELECTORS_TOTAL}-bit set)`,
    ]);
  });

  test(`at most ${limits.MAX_MAP_ENTRIES} distinct path values in all policies`, () => {
    const list = (from: number) => Array.from({ length: 256 }, (_, i) => `/f${from + i}`).join(', ');
    const docs = Array.from({ length: 17 }, (_, i) => parsePolicies(fileSel(`paths: {equal: [${list(i * 256)}]}`).replace('name: p', `name: p${i}`), `p${i}.yaml`)).flat();
    assert.deepEqual(errorsOf(() => compilePolicies(docs)), [`4352 distinct path values in all policies; at most ${limits.MAX_MAP_ENTRIES} can be loaded`]);
  });

  test('a missing file is named', () => {
    assert.deepEqual(errorsOf(() => loadPolicies(['/nonexistent/policy.yaml'])), ['/nonexistent/policy.yaml: no such file or directory']);
  });

  test('errors from several files are all reported; other files are ignored', () => {
    const files = { 'a.yaml': fileSel('paths: {equal: [x]}'), 'b.yml': fileSel('flags: [exec]').replace('name: p', 'name: q'), 'notes.txt': 'not a policy' };
    withFiles(files, (dir) => {
      assert.deepEqual(errorsOf(() => loadPolicies([dir])), [
        `${join(dir, 'a.yaml')}: spec.selectors[0].paths.equal[0]: must start with /`,
        `${join(dir, 'b.yml')}: spec.selectors[0].flags[0]: must be one of: read, write, create, truncate`,
      ]);
    });
  });
});

test('a binary value that is a symlink on this host is warned about, unless its target is listed too', () => {
  const yaml = `${HEAD}spec:\n  hook: exec\n  selectors:\n    - binary: {equal: [/bin/sh, /usr/bin/bash, /bin/bash]}\n`;
  const warnings = binaryAliasWarnings(parsePolicies(yaml, 'x.yaml'));
  const sh = realpathSync('/bin/sh');
  assert.deepEqual(
    warnings,
    sh === '/bin/sh' ? [] : [`x.yaml: spec.selectors[0].binary.equal[0]: /bin/sh resolves to ${sh} on this host; processes run as ${sh}, so this value never matches (list ${sh} instead)`],
  );
  assert.deepEqual(binaryAliasWarnings(loadPolicies([defaultPolicyDir()])), [], 'the default pack lists canonical paths');
});

test('the default policy pack is valid and compiles', () => {
  const loaded = loadPolicies([defaultPolicyDir()]);
  assert.equal(loaded.length, readdirSync(defaultPolicyDir()).filter((f) => f.endsWith('.yaml')).length);
  const compiled = compilePolicies(loaded);
  assert.ok(compiled.selectors.length <= limits.MAX_SELECTORS_TOTAL);
});
