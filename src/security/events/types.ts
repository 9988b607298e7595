// Security events as they leave the agent: plain JSON-ready objects, one per
// event (output/event-json.ts writes them). Read-only for subscribers: process
// views and ancestor lists are shared between events (and frozen). Field names follow
// Tetragon's JSON where it has one (exec_id, binary, arguments, parent, ancestors).
import type { Hook, OpenFlag } from '../policy/schema.js';

export interface ProcessView {
  pid: number;
  /** Thread that did the operation (policy events). */
  tid?: number;
  /** base64("node:start_ktime:pid"): unique across pid reuse and hosts. */
  exec_id: string;
  /** Canonical path of the running image (what /proc/PID/exe shows). */
  binary: string;
  /** argv without argv[0]. */
  arguments: string[];
  cwd: string;
  uid: number;
  gid: number;
  start_time: string;
  parent_exec_id?: string;
  container_id?: string;
  in_container: boolean;
  /** "execve", "clone" (forked, no exec yet), "procFS" (found at start), "truncArgs", "miss" (not in the cache). */
  flags: string[];
}

export interface ProcessDetail extends ProcessView {
  parent?: ProcessView;
  /** Beyond the parent: grandparent first, up to the first process the agent knows no parent of. */
  ancestors?: readonly ProcessView[];
}

interface EventBase {
  time: string;
  node: string;
  process: ProcessDetail;
}

export interface ProcessExecEvent extends EventBase {
  type: 'process_exec';
  /** Path passed to execve when it differs from binary (a script's own path, a symlink). */
  filename?: string;
}

export interface ProcessExitEvent extends EventBase {
  type: 'process_exit';
  /** Exit status, or null when a signal ended the process. */
  status: number | null;
  /** e.g. "SIGKILL", or null. */
  signal: string | null;
}

export interface ProcessForkEvent extends EventBase {
  type: 'process_fork';
}

export interface PolicyEventBase extends EventBase {
  type: Hook;
  policy: string;
  /** The selector's action: post, sigkill (sent unless dry_run), or deny (the operation was refused unless dry_run). */
  action: 'post' | 'sigkill' | 'deny';
  /** sigkill or deny was reported but not done (policy mode monitor or agent dry run). */
  dry_run: boolean;
  severity?: string;
  tags?: string[];
  /** The system call that triggered the hook. */
  syscall: string;
}

export interface FileOpenEvent extends PolicyEventBase {
  type: 'file_open';
  file: { path: string; flags: OpenFlag[]; truncated?: boolean };
}

export interface SocketAddress {
  family: 'ipv4' | 'ipv6';
  address: string;
  port: number;
}

export interface ConnectEvent extends PolicyEventBase {
  type: 'connect';
  destination: SocketAddress;
}

export interface BindEvent extends PolicyEventBase {
  type: 'bind';
  address: SocketAddress;
}

export interface SetuidEvent extends PolicyEventBase {
  type: 'setuid';
  /** Ids passed to the call; null means "unchanged" (-1). */
  ids: (number | null)[];
}

export interface PtraceEvent extends PolicyEventBase {
  type: 'ptrace';
  ptrace: { request: string; target_pid: number };
}

export interface MountEvent extends PolicyEventBase {
  type: 'mount';
  /** error: null when the call succeeded, else its errno name (the event is written at the call's exit). */
  mount: { source: string; target: string; fstype: string; flags: number; error: string | null };
}

export interface ModuleLoadEvent extends PolicyEventBase {
  type: 'module_load';
  module: { path?: string; params: string };
}

export interface ExecPolicyEvent extends PolicyEventBase {
  type: 'exec';
  /**
   * The file about to be executed, when the policy was evaluated by the BPF LSM
   * hook (a policy that denies): `process` is then still the caller's image.
   */
  file?: { path: string; truncated?: boolean };
}

export type PolicyEvent = FileOpenEvent | ConnectEvent | BindEvent | SetuidEvent | PtraceEvent | MountEvent | ModuleLoadEvent | ExecPolicyEvent;
export type ProcessEvent = ProcessExecEvent | ProcessExitEvent | ProcessForkEvent;
export type SecurityEvent = ProcessEvent | PolicyEvent;
export type SecurityEventType = SecurityEvent['type'];

export const PROCESS_EVENT_TYPES = ['process_exec', 'process_exit', 'process_fork'] as const;

export const isPolicyEvent = (e: SecurityEvent): e is PolicyEvent => 'policy' in e;
