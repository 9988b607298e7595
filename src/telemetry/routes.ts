// Route resolution: URL path → low-cardinality `http.route` (server) or
// `url.template` (client). Configured patterns win; unmatched paths follow the
// `unmatched` mode; every service has its own bounded RouteTable per role.
//
//   unmatched mode     what an unmatched path reports
//   'low-cardinality'  ids → {id}, then per-position fan-out limit → {var} (default)
//   'heuristic'        ids → {id}
//   'path'             the raw path (still capped per service)
//   'wildcard'         /**
//   'unset'            no route at all
import { ID_PLACEHOLDER, replaceIds } from './route-heuristic.js';
import { RoutePatterns } from './route-patterns.js';
import { RouteTable, WILDCARD_ROUTE } from './route-table.js';

export type UnmatchedRouteMode = 'low-cardinality' | 'heuristic' | 'path' | 'wildcard' | 'unset';
export const UNMATCHED_ROUTE_MODES: readonly UnmatchedRouteMode[] = ['low-cardinality', 'heuristic', 'path', 'wildcard', 'unset'];

export interface RouteOptions {
  /** Patterns such as `/users/{id}`, `/users/:id`, `/static/*`, tried in order. */
  patterns?: readonly string[];
  unmatched?: UnmatchedRouteMode;
  /** Distinct routes per service and role before new ones collapse to `/**`. Default 100. */
  maxRoutesPerService?: number;
  /** Distinct literal segments under one path position before `{var}` (low-cardinality). Default 10. */
  maxSegmentFanout?: number;
  /** Segments kept; deeper paths end in `/**`. Default 16. */
  maxSegments?: number;
}

export const ROUTE_DEFAULTS = {
  unmatched: 'low-cardinality' as UnmatchedRouteMode,
  maxRoutesPerService: 100,
  maxSegmentFanout: 10,
  maxSegments: 16,
};

export interface RouteResult {
  route: string | undefined;
  /** This resolution hit the per-service cap and reported `/**`. */
  collapsed: boolean;
}

const NO_ROUTE: RouteResult = { route: undefined, collapsed: false };

/**
 * Raw paths remembered per table, in each of two generations, and the longest
 * path remembered: at most 2 × 512 × 128 characters per service and role. When
 * the young generation is full it becomes the old one and the old one is dropped,
 * so paths in use stay (an approximate LRU at the cost of a Map per generation).
 * A path holding an id is not remembered: ids rarely repeat, and remembering
 * them would push out the paths that do.
 */
const PATH_CACHE_SIZE = 512;
const PATH_CACHE_MAX_LENGTH = 128;

/** One service and role: its route table and the resolutions of recent raw paths. */
interface TableEntry {
  table: RouteTable;
  young: Map<string, RouteResult>;
  old: Map<string, RouteResult>;
  /** Route → its one result object (bounded like the routes: no allocation per resolution). */
  results: Map<string, RouteResult>;
}

const COLLAPSED: RouteResult = { route: WILDCARD_ROUTE, collapsed: true };

export class RouteResolver {
  readonly #patterns: RoutePatterns;
  readonly #mode: UnmatchedRouteMode;
  readonly #limits: { maxRoutes: number; maxFanout: number; maxSegments: number };
  readonly #tables = new Map<string, TableEntry>();

  constructor(opts: RouteOptions = {}) {
    this.#patterns = new RoutePatterns(opts.patterns ?? []);
    this.#mode = opts.unmatched ?? ROUTE_DEFAULTS.unmatched;
    this.#limits = {
      maxRoutes: positive('maxRoutesPerService', opts.maxRoutesPerService ?? ROUTE_DEFAULTS.maxRoutesPerService),
      maxFanout: this.#mode === 'low-cardinality' ? positive('maxSegmentFanout', opts.maxSegmentFanout ?? ROUTE_DEFAULTS.maxSegmentFanout) : 0,
      maxSegments: positive('maxSegments', opts.maxSegments ?? ROUTE_DEFAULTS.maxSegments),
    };
  }

  /**
   * The route of `path` (no query) for one service's table, `key` naming the
   * service and role (e.g. "shop/server").
   */
  resolve(key: string, path: string): RouteResult {
    if (!path.startsWith('/')) return NO_ROUTE;
    const t = this.#table(key);
    // A path resolves to the same route for the table's whole life (patterns are
    // fixed, routes are never removed, fan-out choices never change), so exact
    // repeats skip the work; a repeat of a collapsed path is counted again.
    let hit = t.young.get(path);
    if (hit === undefined) {
      hit = t.old.get(path);
      if (hit !== undefined) this.#remember(t, path, hit);
    }
    if (hit !== undefined) {
      if (hit.collapsed) t.table.collapsed++;
      return hit;
    }
    const segments = path.slice(1).split('/');
    const result = this.#resolve(t, segments);
    // #resolve replaced ids in `segments` in place: such a path is not worth remembering.
    if (path.length <= PATH_CACHE_MAX_LENGTH && !segments.includes(ID_PLACEHOLDER)) this.#remember(t, path, result);
    return result;
  }

  #remember(t: TableEntry, path: string, result: RouteResult): void {
    if (t.young.size >= PATH_CACHE_SIZE) {
      t.old = t.young;
      t.young = new Map();
    }
    t.young.set(path, result);
  }

  #resolve(t: TableEntry, segments: string[]): RouteResult {
    const configured = this.#patterns.match(segments);
    if (configured !== undefined) return resultOf(t, configured);
    switch (this.#mode) {
      case 'unset':
        return NO_ROUTE;
      case 'wildcard':
        return resultOf(t, WILDCARD_ROUTE);
      default: {
        const table = t.table;
        const before = table.collapsed;
        // `segments` is this call's own array: ids are replaced in place.
        if (this.#mode !== 'path') replaceIds(segments);
        const route = table.resolve(segments);
        return table.collapsed !== before ? COLLAPSED : resultOf(t, route);
      }
    }
  }

  /** Drops a service's tables (when the service is gone). */
  forget(key: string): void {
    this.#tables.delete(key);
  }

  /** Distinct routes currently held for `key`. */
  routeCount(key: string): number {
    return this.#tables.get(key)?.table.size ?? 0;
  }

  #table(key: string): TableEntry {
    let t = this.#tables.get(key);
    if (t === undefined) {
      t = { table: new RouteTable(this.#limits), young: new Map(), old: new Map(), results: new Map() };
      this.#tables.set(key, t);
    }
    return t;
  }
}

/** The one result object of a route (configured patterns and admitted routes are bounded). */
function resultOf(t: TableEntry, route: string): RouteResult {
  let r = t.results.get(route);
  if (r === undefined) {
    r = { route, collapsed: false };
    t.results.set(route, r);
  }
  return r;
}

function positive(field: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`routes.${field} must be a positive integer, got ${n}`);
  return n;
}
