// The reason a feature is off is one line in the kernel's words, whatever the
// error looked like: a real verifier refusal, the same as discovery keeps it
// (its message only), and a missing tracepoint.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FeatureBoard, checkFeatures, featureFailureReason } from '../../src/cli/features/index.js';
import { ObjectSpec } from '../../src/ebpf/index.js';
import { bpfObjectPath } from '../../src/paths.js';

function refusal(): Error {
  const spec = ObjectSpec.open(bpfObjectPath('testdata/verifier_reject'));
  try {
    spec.load().close();
  } catch (e) {
    spec.close();
    return e as Error;
  }
  assert.fail('the verifier accepted testdata/verifier_reject');
}

describe('featureFailureReason', () => {
  const expected = /^loading verifier_reject\.bpf\.o: the verifier rejected program 'unchecked_lookup': .*R\d+ invalid mem access 'map_value_or_null'$/;

  test('a verifier refusal: object file name, program, the verifier’s reason; no path, no statistics, one line', () => {
    const reason = featureFailureReason(refusal());
    assert.match(reason, expected);
    assert.doesNotMatch(reason, /\n|processed \d+ insns|\/dist\//);
  });

  test('the same from the message alone (how discovery keeps it)', () => {
    const e = refusal();
    assert.equal(featureFailureReason(e.message), featureFailureReason(e));
  });

  test('a missing tracepoint', () => {
    const coll = ObjectSpec.open(bpfObjectPath('testdata/count_syscalls')).load();
    try {
      coll.program('count_getppid').attachTracepoint('syscalls', 'sys_enter_no_such_call');
      assert.fail('attached to a tracepoint that does not exist');
    } catch (e) {
      assert.equal(featureFailureReason(e), 'tracepoint syscalls/sys_enter_no_such_call does not exist on this kernel (not in /sys/kernel/tracing/events)');
    } finally {
      coll.close();
    }
  });
});

describe('checkFeatures', () => {
  test('required off → exit 3 naming each; nothing up → exit 1; otherwise none', () => {
    const board = new FeatureBoard({ policies: 'no --policy given' });
    board.off('http', 'the verifier said no');
    board.off('discovery', 'no tp_btf');
    board.off('process-events', 'no tracefs');
    const nothing = checkFeatures(board, []);
    assert.deepEqual([nothing?.exitCode, nothing?.message], [1, 'no feature could start:\n  http is off: the verifier said no\n  discovery is off: no tp_btf\n  process-events is off: no tracefs']);
    board.up('process-events');
    assert.equal(checkFeatures(board, ['process-events']), undefined);
    const required = checkFeatures(board, ['http', 'policies', 'http']);
    assert.deepEqual([required?.exitCode, required?.message], [3, 'required features not running:\n  http is off: the verifier said no\n  policies is disabled: no --policy given']);
  });
});
