// CPU profiling: perf-event sampling in the kernel, stacks walked by frame
// pointers or .eh_frame tables, symbols resolved here, folded and pprof out.
export { ProfileSampler, DEFAULT_FREQUENCY, MAX_FREQUENCY, checkFrequency } from './sampler.js';
export type { RawSample, SamplerOptions, SamplerStats } from './sampler.js';
export { Symbolizer } from './symbolizer.js';
export type { SymbolizerStats } from './symbolizer.js';
export { Profile, toFolded, MAX_STACKS } from './profile.js';
export type { ProfileStack } from './profile.js';
export type { Frame, FrameKind, StackSample } from './frame.js';
export { foldedKey } from './frame.js';
export { encodePprof, toPprofGzip } from './pprof.js';
export { collectProfile } from './collect.js';
export type { CollectOptions, CollectResult } from './collect.js';
export { UnwindTables } from './unwind/unwind-tables.js';
export type { UnwindTableStats } from './unwind/unwind-tables.js';
export { parseEhFrame } from './unwind/eh-frame.js';
export { ContinuousProfiler } from './continuous.js';
export type { ContinuousOptions, ProfileQuery, ProfileTarget } from './continuous.js';
export { flameTree } from './flame-tree.js';
export type { FlameNode, FlameTree } from './flame-tree.js';
export { PyroscopePusher, ingestUrl } from './pyroscope-push.js';
export type { ProfileSource, PyroscopePushOptions, PyroscopePushStats } from './pyroscope-push.js';
export { pyroscopeAppName, pyroscopeIngestName, pyroscopeLabelProblem } from './pyroscope-name.js';
