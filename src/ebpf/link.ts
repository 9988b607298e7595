// A Link is one attachment of a program to a hook. close() detaches it; closing
// twice is harmless. Links whose kernel side is not tied to a file descriptor
// (netlink tc filters) are also detached when the process exits. closeLinks()
// detaches many at once.

/** How one kind of link detaches several together (see closeLinks). */
export interface BatchDetach {
  /** Detaches every handle; per handle, undefined or why its detach failed. */
  detachAll(handles: readonly unknown[]): Array<Error | undefined>;
}

export class Link {
  private closer: (() => void) | undefined;
  private readonly onClose: ((link: Link) => void) | undefined;

  constructor(
    /** What is attached where, for logs and errors: "tracepoint syscalls/sys_enter_read ← count_read". */
    readonly description: string,
    closer: () => void,
    onClose?: (link: Link) => void,
    /** The link's handle for its kind's BatchDetach, when it has one. */
    readonly batch?: { readonly handle: unknown; readonly detach: BatchDetach },
  ) {
    this.closer = closer;
    this.onClose = onClose;
  }

  get closed(): boolean {
    return this.closer === undefined;
  }

  close(): void {
    const closer = this.closer;
    if (!closer) return;
    this.closer = undefined;
    try {
      closer();
    } finally {
      this.onClose?.(this);
    }
  }

  /** Marks the link closed after its BatchDetach detached it. */
  detachedTogether(): void {
    if (!this.closer) return;
    this.closer = undefined;
    this.onClose?.(this);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Closes every link given. Those of a kind with a BatchDetach are detached
 * together: removing a uprobe or kprobe waits for RCU grace periods (~100 ms
 * each on the project's VMs), so 16 uprobes closed in turn took 1.7 s, and
 * together the waits overlap. Every link is closed even when some fail; the
 * failures are thrown afterwards (one, or an AggregateError).
 */
export function closeLinks(links: Iterable<Link>): void {
  const errors: unknown[] = [];
  const groups = new Map<BatchDetach, Link[]>();
  for (const link of new Set(links)) {
    if (link.closed) continue;
    if (link.batch === undefined) {
      try {
        link.close();
      } catch (e) {
        errors.push(e);
      }
      continue;
    }
    const group = groups.get(link.batch.detach);
    if (group) group.push(link);
    else groups.set(link.batch.detach, [link]);
  }
  for (const [detach, group] of groups) {
    let results: Array<Error | undefined>;
    try {
      results = detach.detachAll(group.map((l) => l.batch!.handle));
    } catch {
      // The batch could not run at all (no thread, no memory): each link on its own, as close() would.
      for (const link of group) {
        try {
          link.close();
        } catch (e) {
          errors.push(e);
        }
      }
      continue;
    }
    group.forEach((link, i) => {
      link.detachedTogether();
      const failure = results[i];
      if (failure) errors.push(failure);
    });
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `closing links: ${errors.length} detach errors`);
}

/** Detachers that must run even if the process exits without closing its links. */
const exitDetachers = new Set<() => void>();
let exitHookInstalled = false;

export function detachOnExit(detach: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const d of exitDetachers) {
        try {
          d();
        } catch {
          // exiting: nothing more can be done
        }
      }
    });
  }
  exitDetachers.add(detach);
  return () => exitDetachers.delete(detach);
}
