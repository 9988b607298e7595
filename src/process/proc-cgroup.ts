// /proc/PID/cgroup: the process's cgroup path and, when the path names a
// container runtime's scope, the container id (64 hex characters, as Docker,
// containerd, CRI-O and Podman name their cgroups).
import { PROC, readProcText } from './proc-fs.js';

export interface CgroupInfo {
  /** The cgroup v2 path (line "0::/…"), else the first v1 hierarchy's path. */
  path: string;
  containerId?: string;
}

// docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope, libpod-<id>.scope,
// /docker/<id>, /kubepods/…/<id>: a 64-hex segment, optionally prefixed and suffixed.
const CONTAINER_ID = /(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?=\/|$)/g;

export function containerIdFromCgroupPath(path: string): string | undefined {
  if (path.length < 64) return undefined; // most cgroups (session-3.scope…): on every exec event
  let last: string | undefined;
  for (const m of path.matchAll(CONTAINER_ID)) last = m[1];
  return last;
}

export function parseCgroup(text: string): CgroupInfo | undefined {
  let v2: string | undefined;
  let v1: string | undefined;
  let containerId: string | undefined;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const path = line.slice(second + 1);
    if (line.startsWith('0::')) v2 = path;
    else v1 ??= path;
    containerId ??= containerIdFromCgroupPath(path);
  }
  const path = v2 ?? v1;
  if (path === undefined) return undefined;
  return containerId ? { path, containerId } : { path };
}

export function readCgroup(pid: number, proc = PROC): CgroupInfo | undefined {
  const text = readProcText(`${proc}/${pid}/cgroup`, 16 * 1024);
  return text === undefined ? undefined : parseCgroup(text);
}
