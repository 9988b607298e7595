// waggle-test: no-kernel
// scripts/run-tests.js on a tree of small test files that pass, fail, hang, leave
// a process behind or fail in a hook: every file ends within the timeout, each
// problem is named, and the last line sums them all.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { packageRoot } from '../../src/paths.js';

const MARK = '// waggle-test: no-kernel\n';
const FILES: Record<string, string> = {
  'a-pass.test.js': `${MARK}import { test } from 'node:test';\ntest('one', () => {});\ntest('two', () => {});\ntest('later', (t) => t.skip('not here'));\n`,
  'b-fail.test.js': `${MARK}import assert from 'node:assert';\nimport { test } from 'node:test';\ntest('wrong', () => assert.equal(1, 2));\ntest('right', () => {});\n`,
  'c-hang.test.js': `${MARK}import { describe, test } from 'node:test';\ndescribe('outer', () => { test('forever', () => new Promise(() => setInterval(() => {}, 1000))); });\n`,
  'd-leak.test.js': `${MARK}import { spawn } from 'node:child_process';\nimport { test } from 'node:test';\ntest('starts sleep and forgets it', () => { spawn('sleep', ['60'], { stdio: 'ignore' }).unref(); });\n`,
  'e-after.test.js': `${MARK}import assert from 'node:assert';\nimport { after, describe, test } from 'node:test';\ndescribe('suite', () => { after(() => assert.fail('after hook')); test('fine', () => {}); });\n`,
};

const dir = mkdtempSync(join(tmpdir(), 'waggle-runner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a hanging file is killed after the timeout and every problem is counted and named', () => {
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(packageRoot, 'scripts', 'run-tests.js'), '--tier=no-kernel'], {
    env: { ...process.env, WAGGLE_TEST_ROOT: dir, WAGGLE_TEST_FILE_TIMEOUT_S: '3' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const seconds = (Date.now() - started) / 1000;
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  // pass: one, two, right, the leaking test itself, fine; fail: wrong, forever (hung), the leak, the after hook.
  assert.equal(lines.at(-1), '5 passed, 4 failed, 1 skipped');
  assert.ok(lines.includes('ℹ fail 4') && lines.includes('ℹ pass 5') && lines.includes('ℹ files 5'), r.stdout);
  const failed = lines.filter((l) => l.startsWith('  ✖ test/'));
  assert.deepEqual(failed.map((l) => l.replace(/now killed: \d+ sleep/, 'now killed: PID sleep')), [
    '  ✖ test/b-fail.test.ts: "wrong"',
    '  ✖ test/c-hang.test.ts: timed out after 3 s while running "outer > forever"; killed its process group',
    '  ✖ test/d-leak.test.ts: left 1 process(es) running, now killed: PID sleep',
    '  ✖ test/e-after.test.ts: "suite"',
  ]);
  assert.ok(seconds < 30, `the run took ${seconds} s`);
});
