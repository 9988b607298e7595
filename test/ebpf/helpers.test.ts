// waggle-test: no-kernel
// Helper ids in verifier refusals are named with the release that added them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeHelper, helperName, missingHelperReason } from '../../src/ebpf/helpers.js';

describe('BPF helper names', () => {
  it('ids follow the kernel UAPI enum', () => {
    assert.equal(helperName(1), 'bpf_map_lookup_elem');
    assert.equal(helperName(113), 'bpf_probe_read_kernel');
    assert.equal(helperName(130), 'bpf_ringbuf_output');
    assert.equal(helperName(164), 'bpf_for_each_map_elem');
    assert.equal(helperName(175), 'bpf_task_pt_regs');
    assert.equal(helperName(181), 'bpf_loop');
    assert.equal(helperName(100000), undefined);
  });

  it('an unknown helper in a 5.10 or a newer verifier log is named with its release', () => {
    assert.equal(missingHelperReason('0: (85) call unknown#181\ninvalid func unknown#181\nprocessed 12 insns'), 'this kernel lacks the BPF helper bpf_loop (Linux 5.17+)');
    assert.equal(missingHelperReason('unknown func bpf_task_pt_regs#175\n'), 'this kernel lacks the BPF helper bpf_task_pt_regs (Linux 5.15+)');
    assert.equal(describeHelper(14), 'bpf_get_current_pid_tgid');
    assert.equal(missingHelperReason('R1 invalid mem access'), undefined);
  });
});
