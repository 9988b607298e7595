// Per-service route bookkeeping that keeps cardinality bounded:
//  - a segment tree where each node admits at most `maxFanout` distinct literal
//    children; further distinct segments at that position become `{var}` (Beyla's
//    `low-cardinality` mode, applied after the id heuristic);
//  - a cap on distinct routes; past it, new routes collapse to `/**` and are counted.
// Memory is bounded by maxRoutes × maxSegments nodes.

export const WILDCARD_ROUTE = '/**';
export const FANOUT_PLACEHOLDER = '{var}';

interface Node {
  children: Map<string, Node>;
  /** The route ending here once admitted (not a deep route's, which ends in WILDCARD_ROUTE). */
  route: string | undefined;
}

export interface RouteTableLimits {
  maxRoutes: number;
  /** 0 disables the fan-out limit (plain capped routes). */
  maxFanout: number;
  maxSegments: number;
}

export class RouteTable {
  /** Each route → the one string object reported for it (its hash is computed once, for every later Map lookup). */
  readonly #routes = new Map<string, string>();
  readonly #root: Node = { children: new Map(), route: undefined };
  /** Resolutions that collapsed to WILDCARD_ROUTE because the cap was reached. */
  collapsed = 0;

  constructor(private readonly limits: RouteTableLimits) {}

  get size(): number {
    return this.#routes.size;
  }

  /** The route for already-normalised segments (ids replaced), bounded by the limits. */
  resolve(segments: readonly string[]): string {
    if (this.limits.maxFanout > 0 && segments.length <= this.limits.maxSegments) {
      const known = this.#known(segments);
      if (known !== undefined) return known;
    }
    let segs = segments;
    let deep = false;
    if (segs.length > this.limits.maxSegments) {
      segs = segs.slice(0, this.limits.maxSegments);
      deep = true;
    }
    const chosen = this.limits.maxFanout > 0 ? this.#choose(segs) : segs;
    const route = `/${chosen.join('/')}${deep ? WILDCARD_ROUTE : ''}`;
    const known = this.#routes.get(route);
    if (known !== undefined) return known;
    if (this.#routes.size >= this.limits.maxRoutes) {
      this.collapsed++;
      return WILDCARD_ROUTE;
    }
    this.#routes.set(route, route);
    if (this.limits.maxFanout > 0) this.#insert(chosen, deep ? undefined : route);
    return route;
  }

  /**
   * The admitted route these segments resolve to, found by walking the tree as
   * #choose would (no array, no joined string, no hashing of a new one), or
   * undefined when the walk leaves the tree or ends where no route ends.
   */
  #known(segs: readonly string[]): string | undefined {
    let node = this.#root;
    for (let i = 0; i < segs.length; i++) {
      let child = node.children.get(segs[i]!);
      if (child === undefined) {
        if (node.children.size < this.limits.maxFanout) return undefined; // a new literal segment: a new route
        child = node.children.get(FANOUT_PLACEHOLDER);
        if (child === undefined) return undefined;
      }
      node = child;
    }
    return node.route;
  }

  /** Walks the tree without changing it, choosing each segment's reported form. */
  #choose(segs: readonly string[]): string[] {
    const out: string[] = [];
    let node: Node | undefined = this.#root;
    for (const seg of segs) {
      if (node === undefined) {
        // Off the known tree: every node below is new and has room.
        out.push(seg);
        continue;
      }
      const child: Node | undefined = node.children.get(seg);
      if (child !== undefined || node.children.size < this.limits.maxFanout) {
        out.push(seg);
        node = child;
      } else {
        out.push(FANOUT_PLACEHOLDER);
        node = node.children.get(FANOUT_PLACEHOLDER);
      }
    }
    return out;
  }

  #insert(chosen: readonly string[], route: string | undefined): void {
    let node = this.#root;
    for (const seg of chosen) {
      let child = node.children.get(seg);
      if (child === undefined) {
        child = { children: new Map(), route: undefined };
        node.children.set(seg, child);
      }
      node = child;
    }
    if (route !== undefined) node.route = route;
  }
}
