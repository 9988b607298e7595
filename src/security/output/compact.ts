// Compact one-line output for a person (`waggle events`), in the style of
// Tetragon's `tetra getevents -o compact`:
//   🚀 process  web-1 /usr/bin/cat /etc/shadow  ← /usr/bin/bash (pid 812)
//   📚 open     web-1 /usr/bin/cat /etc/shadow read  [read-sensitive-files: sigkill]
//   💥 exit     web-1 /usr/bin/cat /etc/shadow SIGKILL
import { basename } from 'node:path';
import type { ProcessDetail, SecurityEvent } from '../events/types.js';

export interface CompactOptions {
  /** ASCII labels instead of emoji. */
  plain?: boolean;
  /** ANSI colours for policy names and kills. */
  color?: boolean;
  /** Prefix each line with the event's time. */
  timestamps?: boolean;
}

const ICONS: Record<string, [string, string]> = {
  process_exec: ['🚀', 'process'],
  process_exit: ['💥', 'exit'],
  process_fork: ['🍴', 'fork'],
  file_read: ['📚', 'open'],
  file_write: ['📝', 'open'],
  exec: ['🚨', 'exec'],
  connect: ['🔌', 'connect'],
  bind: ['🔗', 'bind'],
  setuid: ['🔑', 'setuid'],
  ptrace: ['🐞', 'ptrace'],
  mount: ['💾', 'mount'],
  module_load: ['🧩', 'module'],
};

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function command(p: ProcessDetail): string {
  const bin = p.binary || `pid ${p.pid}`;
  return [bin, ...p.arguments.map(quote)].join(' ');
}

function where(e: SecurityEvent): string {
  const c = e.process.container_id;
  return c ? c.slice(0, 12) : e.node;
}

export function formatCompact(e: SecurityEvent, opts: CompactOptions = {}): string {
  const paint = (code: number, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const iconKey = e.type === 'file_open' ? (e.file.flags.some((f) => f !== 'read') ? 'file_write' : 'file_read') : e.type;
  const [emoji, label] = ICONS[iconKey] ?? ['•', e.type];
  const head = `${opts.timestamps ? `${e.time} ` : ''}${opts.plain ? '' : `${emoji} `}${label.padEnd(8)} ${where(e)} ${command(e.process)}`;
  const parent = e.process.parent;
  const parentNote = parent ? `  ← ${parent.binary ? basename(parent.binary) : '?'} (pid ${parent.pid})` : '';
  switch (e.type) {
    case 'process_exec':
      return `${head}${parentNote}`;
    case 'process_fork':
      return `${head} pid ${e.process.pid}${parentNote}`;
    case 'process_exit':
      return `${head} ${e.signal ? paint(31, e.signal) : `exit ${e.status}`}`;
    default: {
      let detail: string;
      switch (e.type) {
        case 'file_open':
          detail = `${e.file.path} ${e.file.flags.join(',') || '-'}`;
          break;
        case 'connect':
          detail = `→ ${e.destination.family === 'ipv6' ? `[${e.destination.address}]` : e.destination.address}:${e.destination.port}`;
          break;
        case 'bind':
          detail = `on ${e.address.family === 'ipv6' ? `[${e.address.address}]` : e.address.address}:${e.address.port}`;
          break;
        case 'setuid':
          detail = `${e.syscall}(${e.ids.map((v) => (v === null ? '-1' : String(v))).join(', ')})`;
          break;
        case 'ptrace':
          detail = `${e.ptrace.request} pid ${e.ptrace.target_pid}`;
          break;
        case 'mount':
          detail = `${e.mount.source || '-'} → ${e.mount.target}${e.mount.fstype ? ` (${e.mount.fstype})` : ''}`;
          break;
        case 'module_load':
          detail = `${e.module.path ?? '(from memory)'}${e.module.params ? ` ${e.module.params}` : ''}`;
          break;
        case 'exec':
          detail = e.file ? `→ ${e.file.path}` : parentNote.trim();
          break;
      }
      const enforced = e.action === 'sigkill' || e.action === 'deny';
      const action = enforced ? (e.dry_run ? `${e.action} (dry run)` : paint(31, e.action)) : e.action;
      return `${head}  ${detail}  [${paint(33, e.policy)}: ${action}]`;
    }
  }
}
