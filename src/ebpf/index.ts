// waggle's eBPF library: open → edit → load → attach → read, over libbpf.
// It knows nothing of HTTP or policies; everything else in waggle stands on it.
export { ObjectSpec, ProgramSpec, MapSpec } from './object-spec.js';
export { Collection } from './collection.js';
export { Program, PERF_TYPE_HARDWARE, PERF_TYPE_SOFTWARE, PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_SW_CPU_CLOCK } from './program.js';
export type { UprobeTarget, PerfEventTarget } from './program.js';
export { Link } from './link.js';
export { BpfMap, perCpu } from './map.js';
export type { UpdateFlag } from './map.js';
export { RingBufferReader, RecordBatch } from './ringbuf.js';
export type { RingBufferOptions, RingBufferStats } from './ringbuf.js';
export * as codecs from './codec.js';
export type { Codec } from './codec.js';
export { Btf } from './btf/parse.js';
export { VMLINUX_BTF, missingKernelBtfNames } from './btf/kernel-names.js';
export type { BtfType, BtfKind } from './btf/parse.js';
export { btfCodec, structCodecByName, offsetOf } from './btf/codec.js';
export { WaggleError, VerifierError, toWaggleError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { effectiveCapabilities } from './capabilities.js';
export { ensureTracefs, ensureBpffs, ensureSecurityfs, cgroup2Path } from './mounts.js';
export { enableStats, withStats } from './stats.js';
export { BPF_LOG_LEVEL1, BPF_LOG_LEVEL2, BPF_LOG_STATS, parseVerifierStats } from './verifier-stats.js';
export type { VerifierStats } from './verifier-stats.js';
export { MAX_BPF_STACK, callGraph, subprogramStarts, deepestStackChain, depthsBeforeLoopInlining, firstStackOverflow, roundStackDepth, BPF_LOOP_INLINE_STACK } from './call-graph.js';
export type { Subprogram, StackChain, InstructionSource } from './call-graph.js';
export { interfaceIndex } from './net.js';
export { loadFirst } from './load-first.js';
