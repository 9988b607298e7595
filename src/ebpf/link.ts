// A Link is one attachment of a program to a hook. close() detaches it; closing
// twice is harmless. Links whose kernel side is not tied to a file descriptor
// (netlink tc filters) are also detached when the process exits.
export class Link {
  private closer: (() => void) | undefined;
  private readonly onClose: ((link: Link) => void) | undefined;

  constructor(
    /** What is attached where, for logs and errors: "tracepoint syscalls/sys_enter_read ← count_read". */
    readonly description: string,
    closer: () => void,
    onClose?: (link: Link) => void,
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

  [Symbol.dispose](): void {
    this.close();
  }
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
