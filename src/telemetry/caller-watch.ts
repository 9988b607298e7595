// Whether the callers of a local port are watched, by caller address: the
// trace linker notes a caller address as seen (a client span called the port
// from it: its client end is watched) or quiet (a server span from it found
// no client span at the other end: an unwatched load generator, a browser
// through a port forward). A quiet caller's requests cannot get a local parent,
// so they are not held. An address once seen never turns quiet (a port with
// watched and unwatched callers on one address keeps holding); a quiet one
// that turns out to have a watched client is woken, counted. Bounded: past
// `max` pairs everything is forgotten, which only means holding again until
// relearned.
export class CallerWatch {
  readonly #max: number;
  /** port → caller address → quiet (true) or seen (false). */
  readonly #ports = new Map<number, Map<string, boolean>>();
  #pairs = 0;
  #quiet = 0;
  /** Quiet callers on which a client span appeared after all. */
  woken = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** (port, caller address) pairs known quiet now. */
  get quietCount(): number {
    return this.#quiet;
  }

  isQuiet(port: number, caller: string): boolean {
    return this.#ports.get(port)?.get(caller) === true;
  }

  /** A server span on `port` from `caller` found no client span: quiet, unless a client was seen there. */
  noteQuiet(port: number, caller: string): void {
    const callers = this.#callers(port);
    if (callers.has(caller)) return;
    if (this.#pairs >= this.#max) return this.#forget();
    callers.set(caller, true);
    this.#pairs++;
    this.#quiet++;
  }

  /** A client span called `port` from `caller`: watched. */
  noteClient(port: number, caller: string): void {
    const callers = this.#callers(port);
    const state = callers.get(caller);
    if (state === false) return;
    if (state === true) {
      this.woken++;
      this.#quiet--;
    } else {
      if (this.#pairs >= this.#max) this.#forget();
      this.#pairs++;
    }
    callers.set(caller, false);
  }

  #callers(port: number): Map<string, boolean> {
    let callers = this.#ports.get(port);
    if (callers === undefined) {
      callers = new Map();
      this.#ports.set(port, callers);
    }
    return callers;
  }

  #forget(): void {
    this.#ports.clear();
    this.#pairs = 0;
    this.#quiet = 0;
  }
}
