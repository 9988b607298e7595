// Which process listens on which TCP port, kept up to date cheaply.
//
// Kernel listen events (addListenEvent) say at once which process started
// listening where; new processes are checked for sockets they inherited
// (inspect). A refresh reads the LISTEN sockets of every network namespace in
// use (/proc/PID/net/tcp{,6} of one member process) and keeps only ports
// someone asked about; it costs a walk of the kernel's connection hash table
// (~1 ms per file here), so with kernel events it is a rare safety net. Only sockets not seen before need an owner, found by reading
// /proc/PID/fd links: processes given as hints first (a kernel listen event, a
// new process), then everyone, within a budget of readlink calls per refresh,
// carried over to the next refresh when it runs out. A socket nobody visible
// holds after a full pass is remembered as unowned and not searched again.
import { readListeningSockets } from './proc-net-tcp.js';
import { type Budget, netNamespace, socketInodes } from './socket-inodes.js';
import { PROC } from '../process/proc-fs.js';

interface SocketState {
  port: number;
  owners: Set<number>;
  /** Pass number during which it was first seen. */
  seenInPass: number;
}

export interface ListeningPortsOptions {
  /** Ports worth tracking (the union of port selectors). */
  wanted: (port: number) => boolean;
  /** readlink calls per refresh for owner searches. */
  fdBudget: number;
  proc?: string;
}

export interface ListeningPortsStats {
  sockets: number;
  unowned: number;
  fdReads: number;
  namespaces: number;
}

export class ListeningPorts {
  private readonly netns = new Map<number, string>();
  private readonly sockets = new Map<number, SocketState>();
  private readonly pidSockets = new Map<number, Set<number>>();
  private readonly eventPorts = new Map<number, Set<number>>();
  /** Sockets still looking for an owner. */
  private readonly pending = new Set<number>();
  private passQueue: number[] = [];
  private pass = 0;
  private fdReads = 0;
  private readonly proc: string;

  constructor(private readonly opts: ListeningPortsOptions) {
    this.proc = opts.proc ?? PROC;
  }

  /** Listening ports of `pid` known so far (from sockets held and listen events). */
  portsOf(pid: number): Set<number> {
    const ports = new Set<number>(this.eventPorts.get(pid));
    for (const inode of this.pidSockets.get(pid) ?? []) {
      const s = this.sockets.get(inode);
      if (s) ports.add(s.port);
    }
    return ports;
  }

  /** A kernel listen event: trusted at once, before /proc shows the socket. */
  addListenEvent(pid: number, port: number): boolean {
    if (!this.opts.wanted(port)) return false;
    let set = this.eventPorts.get(pid);
    if (!set) this.eventPorts.set(pid, (set = new Set()));
    if (set.has(port)) return false;
    set.add(port);
    return true;
  }

  /**
   * Checks a new (or newly exec'd) process for listening sockets already
   * known: inherited ones, or handed over by a socket-activating parent
   * (systemd), which never call listen() themselves. Returns true when its
   * ports changed.
   */
  inspect(pid: number): boolean {
    if (this.sockets.size === 0) return false;
    const budget: Budget = { remaining: Number.POSITIVE_INFINITY };
    const found = socketInodes(pid, budget, new Set(this.sockets.keys()), this.proc);
    this.fdReads += budget.reads ?? 0;
    if (!Array.isArray(found)) return false;
    let changed = false;
    for (const inode of found) if (this.own(inode, pid)) changed = true;
    return changed;
  }

  forget(pid: number): void {
    this.netns.delete(pid);
    this.eventPorts.delete(pid);
    for (const inode of this.pidSockets.get(pid) ?? []) this.sockets.get(inode)?.owners.delete(pid);
    this.pidSockets.delete(pid);
  }

  /** Sockets still looking for an owner (a pass over all processes is due). */
  get searching(): boolean {
    return this.pending.size > 0;
  }

  /**
   * Re-reads the socket tables: new wanted sockets start looking for their
   * owner, closed ones are dropped. Returns the pids whose ports changed.
   */
  readTables(livePids: readonly number[]): Set<number> {
    const changed = new Set<number>();
    const byNs = new Map<string, number[]>();
    for (const pid of livePids) {
      let ns = this.netns.get(pid);
      if (ns === undefined) {
        ns = netNamespace(pid, this.proc);
        if (ns === undefined) continue;
        this.netns.set(pid, ns);
      }
      let members = byNs.get(ns);
      if (!members) byNs.set(ns, (members = []));
      members.push(pid);
    }
    const present = new Set<number>();
    for (const members of byNs.values()) {
      // Any member's view of /proc/PID/net is the namespace's; try a few in case one just exited.
      for (let i = 0; i < Math.min(3, members.length); i++) {
        const table = readListeningSockets(members[i]!, this.proc);
        if (!table) continue;
        for (const { inode, port } of table) {
          if (!this.opts.wanted(port)) continue;
          present.add(inode);
          if (!this.sockets.has(inode)) {
            this.sockets.set(inode, { port, owners: new Set(), seenInPass: this.pass });
            this.pending.add(inode);
          }
        }
        break;
      }
    }
    for (const [inode, s] of this.sockets) {
      if (present.has(inode)) continue;
      this.sockets.delete(inode);
      this.pending.delete(inode);
      for (const pid of s.owners) {
        this.pidSockets.get(pid)?.delete(inode);
        changed.add(pid);
      }
    }
    return changed;
  }

  /**
   * Looks for the owners of sockets still without one, process by process,
   * within `fdBudget` readlink calls; the pass resumes where it stopped on the
   * next call. Returns the pids whose ports changed.
   */
  searchOwners(livePids: readonly number[], fdBudget = this.opts.fdBudget): Set<number> {
    const changed = new Set<number>();
    if (this.pending.size === 0) return changed;
    if (this.passQueue.length === 0) {
      this.pass++;
      this.passQueue = [...livePids];
    }
    const budget: Budget = { remaining: fdBudget };
    try {
      while (this.passQueue.length > 0 && this.pending.size > 0) {
        const pid = this.passQueue[this.passQueue.length - 1]!;
        const found = socketInodes(pid, budget, this.pending, this.proc);
        if (found === 'budget') return changed;
        this.passQueue.pop();
        for (const inode of found ?? []) if (this.own(inode, pid)) changed.add(pid);
      }
    } finally {
      this.fdReads += budget.reads ?? 0;
    }
    if (this.passQueue.length === 0) {
      // A full pass is over: sockets seen before it began that nobody visible holds stay unowned.
      for (const inode of [...this.pending]) if (this.sockets.get(inode)!.seenInPass < this.pass) this.pending.delete(inode);
    } else this.passQueue = [];
    return changed;
  }

  private own(inode: number, pid: number): boolean {
    const s = this.sockets.get(inode);
    if (!s || s.owners.has(pid)) return false;
    s.owners.add(pid);
    this.pending.delete(inode);
    let set = this.pidSockets.get(pid);
    if (!set) this.pidSockets.set(pid, (set = new Set()));
    set.add(inode);
    return true;
  }

  stats(): ListeningPortsStats {
    let unowned = 0;
    for (const [inode, s] of this.sockets) if (s.owners.size === 0 && !this.pending.has(inode)) unowned++;
    return { sockets: this.sockets.size, unowned, fdReads: this.fdReads, namespaces: new Set(this.netns.values()).size };
  }
}
