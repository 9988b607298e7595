// npm run bpf:budget: figures per program, failures and probes, the exit status.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { bpfObjectPath, packageRoot } from '../../src/paths.js';
import { measureProgram } from '../../scripts/budget/measure.js';
import { type Row, offence } from '../../scripts/budget/report.js';

const defaults = { name: 'defaults', apply: () => {} };

describe('bpf:budget', () => {
  test('a loaded program: its deepest chain by name, and the processed instructions', () => {
    const m = measureProgram(bpfObjectPath('testdata/call_chain'), 'chain_main', defaults, false);
    assert.equal(m.status, 'ok');
    assert.equal(m.stackBytes, 320); // 64 + 32 + 224, see test/ebpf/verifier-stats.test.ts
    assert.equal(m.stackBytesJit, 272);
    assert.deepEqual(m.chain, ['chain_main', 'each_cb', 'global_fn']);
    assert.ok(m.processedInsns !== null && m.processedInsns > 0);
  });

  test('a refused program fails with the verifier’s reason, its figures computed from the code it was given', () => {
    const m = measureProgram(bpfObjectPath('testdata/verifier_reject_stack'), 'too_deep', defaults, false);
    assert.equal(m.status, 'failed');
    assert.equal(m.reason, 'combined stack size of 6 calls is 528. Too large');
    // The whole chain (7 frames), not only up to where the kernel stopped: 64 + 6 × 96.
    assert.equal(m.stackBytes, 640);
    assert.equal(m.stackBytesJit, 624);
    assert.deepEqual(m.chain, ['too_deep', '#1', '#2', '#3', '#4', '#5', '#6']);
    assert.ok(offence({ object: 'x', program: 'too_deep', profiles: [], ...m })?.startsWith('fails to load: combined stack size'));
  });

  test('a probe this kernel refuses is not loadable here, which is no offence', (t) => {
    const m = measureProgram(bpfObjectPath('probes/features'), 'probe_fentry', defaults, true);
    if (m.status === 'ok') {
      t.skip('this kernel loads fentry programs');
      return;
    }
    assert.equal(m.status, 'not-loadable');
    assert.match(m.reason ?? '', /^WAGGLE_ERR_/);
    assert.equal(offence({ object: 'probes/features.bpf.o', program: 'probe_fentry', profiles: [], ...m }), undefined);
  });

  test('budget limits: 384 stack bytes, 250,000 processed instructions', () => {
    const row = (stackBytes: number, processedInsns: number): Row => ({
      object: 'o.bpf.o',
      program: 'p',
      profiles: [],
      status: 'ok',
      stackBytes,
      stackBytesJit: stackBytes,
      chain: ['p', 'f'],
      processedInsns,
    });
    assert.equal(offence(row(384, 250_000)), undefined);
    assert.equal(offence(row(416, 10)), 'combined stack 416 B > 384 B (p → f)');
    assert.equal(offence(row(32, 250_001)), '250001 processed insns > 250000');
  });

  test('--json prints only JSON, one row per program, and exits 0 within budget', () => {
    const r = spawnSync(process.execPath, [join(packageRoot, 'dist', 'scripts', 'bpf-budget.js'), '--json', 'testdata/call_chain'], { timeout: 60_000, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Row[];
    assert.deepEqual(
      rows.map((x) => [x.object, x.program, x.stackBytes]),
      [
        ['testdata/call_chain.bpf.o', 'chain_main', 320],
        ['testdata/call_chain.bpf.o', 'loop_main', 96],
      ],
    );
    assert.ok(rows.every((x) => typeof x.processedInsns === 'number'));
  });
});
