// The idle sweep of the capture's legacy build (kernels 5.10–5.16, without
// bpf_for_each_map_elem): user space lists the connection keys and the
// cap_sweep program handles them SWEEP_BATCH at a time from the sweep_keys
// array (a zero key ends a batch), adding to sweep_pending and sweep_states.
import type { Collection } from '../ebpf/index.js';

/** bpf/capture/legacy.h SWEEP_BATCH. */
const SWEEP_BATCH = 8;

/** Whether the loaded capture object is a legacy build (it has the sweep_keys map). */
export function isLegacySweep(coll: Collection): boolean {
  return coll.spec.maps.has('sweep_keys');
}

export function legacySweep(coll: Collection, program: string): { inFlight: number; connections: number } {
  const before = { pending: coll.variable<bigint | number>('sweep_pending'), states: coll.variable<bigint | number>('sweep_states') };
  // Keys first: a key deleted during get_next_key iteration restarts it.
  const keys = [...coll.map('conns').raw().keys()].map((k) => Buffer.from(k));
  const slots = coll.map('sweep_keys').raw();
  const zero = Buffer.alloc(8);
  for (let at = 0; at < keys.length; at += SWEEP_BATCH) {
    const entries: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < SWEEP_BATCH; i++) {
      const index = Buffer.alloc(4);
      index.writeUInt32LE(i);
      entries.push([index, keys[at + i] ?? zero]);
    }
    slots.updateBatch(entries);
    coll.program(program).testRun();
  }
  const after = { pending: coll.variable<bigint | number>('sweep_pending'), states: coll.variable<bigint | number>('sweep_states') };
  return { inFlight: Number(after.pending) - Number(before.pending), connections: Number(after.states) - Number(before.states) };
}
