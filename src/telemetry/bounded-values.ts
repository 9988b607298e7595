// Admits at most `max` distinct values; later new values are refused so the
// caller can substitute an overflow marker. Keeps one attribute's cardinality bounded.

export class BoundedValues {
  readonly #seen = new Set<string>();
  /** Lookups refused because the set was full. */
  overflowed = 0;

  constructor(private readonly max: number) {}

  /** True when `value` is (now) one of the admitted values. */
  admit(value: string): boolean {
    if (this.#seen.has(value)) return true;
    if (this.#seen.size >= this.max) {
      this.overflowed++;
      return false;
    }
    this.#seen.add(value);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }
}
