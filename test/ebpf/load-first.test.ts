// waggle-test: no-kernel
// loadFirst: the first build that loads wins; when none does, the last error
// (its type kept) names every build's refusal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VerifierError, WaggleError, loadFirst } from '../../src/ebpf/index.js';

const refuse = (why: string) => {
  throw new WaggleError('WAGGLE_ERR_OBJECT', why);
};

test('the first build that loads wins, later ones are not tried', () => {
  const tried: string[] = [];
  const got = loadFirst(['a_kfunc', 'a', 'a_legacy'], (name) => {
    tried.push(name);
    if (name === 'a_kfunc') refuse('no kfunc');
    return `loaded ${name}`;
  });
  assert.deepEqual(got, { value: 'loaded a', name: 'a' });
  assert.deepEqual(tried, ['a_kfunc', 'a']);
});

test('all refused: the last error, its type kept, its refusal first, then each other build\'s in order', () => {
  const last = new VerifierError('the verifier rejected program x: too large', 'log', 'x', {});
  assert.throws(
    () =>
      loadFirst(['a', 'a_legacy'], (name) => {
        if (name === 'a') refuse('number of funcs in func_info doesn\'t match number of subprogs');
        throw last;
      }),
    (e: unknown) => {
      assert.equal(e, last);
      assert.ok(e instanceof VerifierError);
      assert.equal((e as Error).message, "the verifier rejected program x: too large (also refused: a: number of funcs in func_info doesn't match number of subprogs)");
      return true;
    },
  );
});

test('WAGGLE_BPF_BUILD=legacy tries only the legacy builds', () => {
  const saved = process.env.WAGGLE_BPF_BUILD;
  process.env.WAGGLE_BPF_BUILD = 'legacy';
  try {
    const tried: string[] = [];
    const got = loadFirst(['a_kfunc', 'a', 'a_legacy'], (name) => {
      tried.push(name);
      return name;
    });
    assert.equal(got.name, 'a_legacy');
    assert.deepEqual(tried, ['a_legacy']);
  } finally {
    if (saved === undefined) delete process.env.WAGGLE_BPF_BUILD;
    else process.env.WAGGLE_BPF_BUILD = saved;
  }
});
