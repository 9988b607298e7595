// Verifier statistics and stack chains of real loaded (and refused) programs.
// testdata/call_chain.bpf.c fills a volatile u64 array per function, so each
// function's stack depth is known from its source:
//   chain_main 40 ─┬─ mid 24 ── leaf 72
//                  ├─ leaf_big 168
//                  └─ (for_each callback) each_cb 16 ── global_fn 200
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BPF_LOG_STATS,
  ObjectSpec,
  VerifierError,
  callGraph,
  firstStackOverflow,
  parseVerifierStats,
  subprogramStarts,
} from '../../src/ebpf/index.js';
import { bpfObjectPath } from '../../src/paths.js';

function loadWithStats(object: string, program: string) {
  const spec = ObjectSpec.open(bpfObjectPath(object));
  spec.selectPrograms([program]);
  spec.program(program).logLevel = BPF_LOG_STATS;
  return spec.load();
}

describe('verifier statistics', () => {
  test('a loaded program reports processed instructions and per-subprogram stack depths', () => {
    const coll = loadWithStats('testdata/call_chain', 'chain_main');
    try {
      const prog = coll.program('chain_main');
      const stats = prog.verifierStats;
      assert.ok(stats, `no stats in log: ${prog.verifierLog}`);
      // The kernel counts the same figure into bpf_prog_info.verified_insns.
      assert.equal(stats.processedInsns, prog.info().verifiedInstructions);
      assert.ok(stats.processedInsns > 0);
      assert.equal(stats.insnLimit, 1_000_000);
      assert.deepEqual(stats.stackDepths, [40, 24, 72, 168, 16, 200]);
      assert.equal(typeof stats.verificationUs, 'number');
    } finally {
      coll.close();
    }
  });

  test('without a log level, a program has no log and no stats', () => {
    const coll = ObjectSpec.open(bpfObjectPath('testdata/call_chain')).load();
    try {
      assert.equal(coll.program('chain_main').verifierLog, undefined);
      assert.equal(coll.program('chain_main').verifierStats, undefined);
    } finally {
      coll.close();
    }
  });

  test('info({ code: true }) gives the kernel’s instructions and where each subprogram starts', () => {
    const coll = loadWithStats('testdata/call_chain', 'chain_main');
    try {
      const prog = coll.program('chain_main');
      const { code } = prog.info({ code: true });
      assert.equal(code.instructions.length % 8, 0);
      const btf = coll.spec.btf!;
      assert.deepEqual(
        code.funcInfo.map((f) => btf.get(f.typeId).name),
        ['chain_main', 'mid', 'leaf', 'leaf_big', 'each_cb', 'global_fn'],
      );
      // The kernel's subprogram starts are the ones found from the calls in libbpf's code.
      const given = coll.spec.program('chain_main').loadedInstructions();
      assert.deepEqual(subprogramStarts(given), code.funcInfo.map((f) => f.insnOff));
    } finally {
      coll.close();
    }
  });

  test('the call graph and deepest stack chain of a known program are exact', () => {
    const coll = loadWithStats('testdata/call_chain', 'chain_main');
    try {
      const prog = coll.program('chain_main');
      const graph = prog.callGraph().map((s) => ({ calls: s.calls, callbacks: s.callbacks }));
      assert.deepEqual(graph, [
        { calls: [1, 3], callbacks: [4] }, // chain_main: mid, leaf_big; each_cb via bpf_for_each_map_elem
        { calls: [2], callbacks: [] }, // mid: leaf
        { calls: [], callbacks: [] },
        { calls: [], callbacks: [] },
        { calls: [5], callbacks: [] }, // each_cb: global_fn
        { calls: [], callbacks: [] },
      ]);
      // 32-byte rounding: chain_main 40→64, each_cb 16→32, global_fn 200→224.
      assert.deepEqual(prog.stackChain(), { bytes: 320, chain: [0, 4, 5] });
      // 16-byte rounding (JIT, Linux ≥ 6.9): 48 + 16 + 208.
      assert.deepEqual(prog.stackChain(16), { bytes: 272, chain: [0, 4, 5] });
    } finally {
      coll.close();
    }
  });

  test('an inlined bpf_loop adds 24 bytes to the stats, which the stack check did not count', () => {
    const coll = loadWithStats('testdata/call_chain', 'loop_main');
    try {
      const prog = coll.program('loop_main');
      assert.deepEqual(prog.verifierStats?.stackDepths, [64, 16]); // 40 + 24 inlined
      assert.deepEqual(prog.stackDepths(), [40, 16]);
      // The kernel's code calls the callback directly where libbpf's only passed it.
      assert.deepEqual(prog.callGraph()[0]?.calls, [1]);
      assert.deepEqual(prog.stackChain(), { bytes: 64 + 32, chain: [0, 1] });
    } finally {
      coll.close();
    }
  });

  test('a program refused for its stack: the log has its depths and the chain computed from them matches the kernel', () => {
    const spec = ObjectSpec.open(bpfObjectPath('testdata/verifier_reject_stack'));
    try {
      spec.program('too_deep').logLevel = BPF_LOG_STATS;
      let refused: VerifierError | undefined;
      try {
        spec.load();
      } catch (e) {
        if (e instanceof VerifierError) refused = e;
        else throw e;
      }
      assert.ok(refused, 'the kernel accepted a 6-frame chain over 512 bytes');
      assert.equal(refused.program, 'too_deep');
      assert.match(refused.message, /combined stack size of 6 calls is 528\. Too large$/);
      const stats = parseVerifierStats(refused.verifierLog);
      assert.deepEqual(stats?.stackDepths, [40, 88, 88, 88, 88, 88, 88]);
      const given = spec.program('too_deep').loadedInstructions();
      const graph = callGraph(given, subprogramStarts(given), 'elf');
      assert.deepEqual(graph.map((s) => s.calls), [[1], [2], [3], [4], [5], [6], []]);
      // This kernel JIT-compiles and rounds to 16: 48 + 5 × 96 at the sixth frame.
      assert.deepEqual(firstStackOverflow(graph, stats!.stackDepths, 16), { frames: 6, bytes: 528 });
      assert.deepEqual(firstStackOverflow(graph, stats!.stackDepths, 32), { frames: 6, bytes: 544 });
    } finally {
      spec.close();
    }
  });

  test('log level and size are checked', () => {
    const spec = ObjectSpec.open(bpfObjectPath('testdata/call_chain'));
    try {
      assert.throws(() => (spec.program('chain_main').logLevel = 64), { code: 'WAGGLE_ERR_INVALID_ARGUMENT' });
      spec.program('chain_main').logLevel = BPF_LOG_STATS;
      assert.throws(() => (spec.program('chain_main').logSize = 64), { code: 'WAGGLE_ERR_INVALID_ARGUMENT', message: /128\.\./ });
    } finally {
      spec.close();
    }
  });
});

describe('parseVerifierStats', () => {
  test('reads the last statistics of a log', () => {
    const log = [
      'func#0 @0',
      'processed 5 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
      'verification time 12 usec',
      'stack depth 128+8+0',
      'processed 64415 insns (limit 1000000) max_states_per_insn 19 total_states 4920 peak_states 5897 mark_read 0',
    ].join('\n');
    assert.deepEqual(parseVerifierStats(log), { processedInsns: 64415, insnLimit: 1_000_000, peakStates: 5897, stackDepths: [128, 8, 0], verificationUs: 12 });
    assert.equal(parseVerifierStats('nothing here'), undefined);
  });
});
