// The live connection: one EventSource for the whole app. Each `tick` makes the
// current page refetch; the overview arrives with it. `useApi` fetches a JSON
// endpoint and refetches on every tick.
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { OverviewView } from '../../store/views.js';

export interface Tick {
  nowMs: number;
  version: number;
  spans: number;
  securityEvents: number;
}

export interface LiveState {
  connected: boolean;
  /** The agent refused us (401): its token is needed again, e.g. after it restarted with a new one. */
  unauthorized?: boolean;
  tick: Tick | null;
  /** Local time the last message arrived. */
  receivedAt: number;
  overview: OverviewView | null;
}

export const LiveContext = createContext<LiveState>({ connected: false, tick: null, receivedAt: 0, overview: null });

export function useLiveConnection(): LiveState {
  const [state, setState] = useState<LiveState>({ connected: false, tick: null, receivedAt: 0, overview: null });
  useEffect(() => {
    const es = new EventSource('/api/live');
    es.onopen = () => setState((s) => ({ ...s, connected: true }));
    es.onerror = () => {
      setState((s) => ({ ...s, connected: false }));
      // EventSource does not say why; one request does.
      fetch('/api/meta')
        .then((r) => setState((s) => ({ ...s, unauthorized: r.status === 401 })))
        .catch(() => undefined);
    };
    es.addEventListener('tick', (e) => {
      const tick = JSON.parse((e as MessageEvent<string>).data) as Tick;
      setState((s) => ({ ...s, connected: true, unauthorized: false, tick, receivedAt: Date.now() }));
    });
    es.addEventListener('overview', (e) => {
      const overview = JSON.parse((e as MessageEvent<string>).data) as OverviewView;
      setState((s) => ({ ...s, overview }));
    });
    return () => es.close();
  }, []);
  return state;
}

export function useLive(): LiveState {
  return useContext(LiveContext);
}

export interface ApiState<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
}

/** Fetches `path` now, whenever it changes, and on every live tick (unless `paused`). */
export function useApi<T>(path: string | null, opts: { paused?: boolean } = {}): ApiState<T> {
  const { tick } = useLive();
  const [state, setState] = useState<ApiState<T>>({ data: null, error: null, loading: true });
  const lastPath = useRef<string | null>(null);
  // The fetch in flight. Only a newer fetch (or unmounting) discards its answer:
  // a tick that starts none must not (a paused /api/meta slower than the first
  // tick was discarded and never asked again, so the page said "not running").
  const inFlight = useRef<{ cancelled: boolean } | null>(null);
  useEffect(
    () => () => {
      if (inFlight.current) inFlight.current.cancelled = true;
    },
    [],
  );
  const version = tick?.version ?? 0;
  useEffect(() => {
    if (!path) return;
    const pathChanged = lastPath.current !== path;
    if (!pathChanged && opts.paused) return;
    lastPath.current = path;
    if (pathChanged) setState({ data: null, error: null, loading: true });
    if (inFlight.current) inFlight.current.cancelled = true;
    const mine = { cancelled: false };
    inFlight.current = mine;
    fetch(path, { headers: { Accept: 'application/json' } })
      .then(async (r) => {
        const body = (await r.json().catch(() => null)) as (T & { error?: string }) | null;
        if (mine.cancelled) return;
        if (!r.ok) setState((s) => ({ data: pathChanged ? null : s.data, error: body?.error ?? `${r.status} ${r.statusText}`, loading: false }));
        else setState({ data: body as T, error: null, loading: false });
      })
      .catch((e: unknown) => {
        if (!mine.cancelled) setState((s) => ({ ...s, error: String(e), loading: false }));
      });
  }, [path, version]);
  return state;
}
