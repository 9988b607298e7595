// The process room: one process table and the /proc readers under it, shared
// by discovery, security, capture and profiling. Imports nothing of waggle's.
export { ProcessTable } from './process-table.js';
export type { ExeKey, ProcessEvent, ProcessEventListener, ProcessEventSource, ProcessTableOptions, ProcessTableStats } from './process-table.js';
export { readProcessInfo, readExePath } from './process-info.js';
export { exeKeyOfPath, kernelDev, readExeKey } from './exe-key.js';
export type { ProcessInfo } from './process-info.js';
export { readProcStat, parseProcStat } from './proc-stat.js';
export type { ProcStat } from './proc-stat.js';
export { readProcIds, parseProcIds } from './proc-status.js';
export type { ProcIds } from './proc-status.js';
export { readCmdline, parseCmdline } from './proc-cmdline.js';
export { readEnviron, parseEnviron } from './proc-environ.js';
export type { WantedEnv } from './proc-environ.js';
export { readCgroup, parseCgroup, containerIdFromCgroupPath } from './proc-cgroup.js';
export type { CgroupInfo } from './proc-cgroup.js';
export { type Mapping, parseMaps, readExecutableMappings, mappingFilePath, mappingName, findMapping } from './proc-maps.js';
export { PROC, isGone, listPids, readProcFile, readProcText, readProcLink, readProcDir } from './proc-fs.js';
/** USER_HZ: /proc start times are in these ticks on every Linux architecture waggle runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;
