// Pushes the continuous profiler's windows to a Pyroscope server: every
// interval, one gzipped pprof per service covering the windows drained since
// the last push, POSTed to `<url>/ingest?name=app{labels}&from=&until=&format=pprof`
// (Pyroscope's documented HTTP ingest API: the pprof bytes are the body, the
// labels ride in the query string; no other wire format to encode).
//
// A bounded queue sits between collection and sending; one request is in
// flight at a time. A failed request (network error, timeout, 429, 5xx) is
// retried a bounded number of times with growing delays; then, like a 4xx,
// the profile is given up. Overflow, failures and retries are counted; a
// failure is logged at most once a minute. Nothing here throws at the caller.
//
//   const push = PyroscopePusher.start(profiler, { url: 'http://pyroscope:4040', intervalMs: 15_000 });
//   push.stats()   // { exported, dropped, failed, exportFailures, retries, queued }
import { type ProfileQuery, type ProfileTarget, isUnidentifiedName } from './continuous.js';
import type { Profile } from './profile.js';
import { toPprofGzip } from './pprof.js';
import { pyroscopeIngestName } from './pyroscope-name.js';

/** What the pusher reads: ContinuousProfiler has exactly this. */
export interface ProfileSource {
  readonly frequency: number;
  span(): { from: number; to: number } | undefined;
  targets(from: number, to: number): ProfileTarget[];
  query(q: ProfileQuery): Profile;
}

export interface PyroscopePushOptions {
  /** Base URL of the server (http or https); `/ingest` is appended to its path. */
  url: string;
  intervalMs: number;
  /** Deadline of one request (default 10 s). */
  timeoutMs?: number;
  /** Profiles waiting to be sent before the oldest is dropped (default 256). */
  queueSize?: number;
  /** Further attempts after a retryable failure (default 2). */
  maxRetries?: number;
  /** Static labels added to every profile (checked by pyroscopeLabelProblem). */
  labels?: Readonly<Record<string, string>>;
  basicAuth?: { username: string; password: string };
  /** Sent as X-Scope-OrgID (multi-tenant Pyroscope). */
  tenantId?: string;
  onWarning?: (message: string) => void;
  /** First retry delay, doubled per attempt (default 1 s). */
  retryBaseMs?: number;
}

export interface PyroscopePushStats {
  /** Profiles the server accepted. */
  exported: number;
  /** Profiles dropped because the queue was full (or the agent stopped with them queued). */
  dropped: number;
  /** Profiles given up after their last failed attempt. */
  failed: number;
  /** Requests that failed (every attempt counts). */
  exportFailures: number;
  retries: number;
  queued: number;
}

interface PendingPush {
  service: string;
  fromMs: number;
  untilMs: number;
  body: Buffer;
  attempts: number;
}

type SendResult = { ok: true } | { ok: false; retry: boolean; reason: string };

const WARN_EVERY_MS = 60_000;
/** The application of every process without a service name. */
export const UNIDENTIFIED_APP = 'unidentified';
const MAX_RETRY_DELAY_MS = 30_000;

export class PyroscopePusher {
  private readonly queue: PendingPush[] = [];
  private readonly ingestUrl: URL;
  private readonly headers: Record<string, string>;
  private readonly opts: Required<Pick<PyroscopePushOptions, 'timeoutMs' | 'queueSize' | 'maxRetries' | 'retryBaseMs'>> & PyroscopePushOptions;
  private timer: NodeJS.Timeout | undefined;
  private lastTo: number | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;
  private inflight: AbortController | undefined;
  private wakeRetry: (() => void) | undefined;
  private lastWarnMs = -Infinity;
  private warningsSuppressed = 0;
  private readonly counts = { exported: 0, dropped: 0, failed: 0, exportFailures: 0, retries: 0 };

  constructor(
    private readonly source: ProfileSource,
    options: PyroscopePushOptions,
  ) {
    this.opts = { timeoutMs: 10_000, queueSize: 256, maxRetries: 2, retryBaseMs: 1000, ...options };
    this.ingestUrl = ingestUrl(options.url);
    this.headers = { 'content-type': 'application/octet-stream', 'user-agent': 'waggle' };
    if (options.basicAuth) this.headers.authorization = `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`;
    if (options.tenantId) this.headers['x-scope-orgid'] = options.tenantId;
  }

  static start(source: ProfileSource, options: PyroscopePushOptions): PyroscopePusher {
    const p = new PyroscopePusher(source, options);
    p.timer = setInterval(() => p.collect(), options.intervalMs);
    p.timer.unref();
    return p;
  }

  /**
   * Queues one profile per service for the windows drained since the last
   * call (the first call takes every kept window) and starts sending.
   * Returns how many profiles were queued.
   */
  collect(): number {
    if (this.closed) return 0;
    const span = this.source.span();
    if (!span) return 0;
    const from = Math.max(this.lastTo ?? span.from, span.from);
    const to = span.to;
    if (to <= from) return 0;
    // Windows are contiguous, so [lastTo, to) takes each window exactly once.
    this.lastTo = to;
    // Processes without a service name (`pid N`: kernel threads, short-lived
    // ones) go together as one application, not one per pid.
    const groups = new Map<string, { samples: number; services: Set<string> }>();
    for (const t of this.source.targets(from, to)) {
      const app = isUnidentifiedName(t.service) ? UNIDENTIFIED_APP : t.service;
      const g = groups.get(app) ?? { samples: 0, services: new Set<string>() };
      g.samples += t.samples;
      g.services.add(t.service);
      groups.set(app, g);
    }
    let queued = 0;
    // Busiest last: when the queue overflows, the oldest (here the least busy) go first.
    for (const [app, g] of [...groups].sort((a, b) => a[1].samples - b[1].samples)) {
      let profile: Profile | undefined;
      for (const service of g.services) {
        const part = this.source.query({ from, to, service });
        if (profile) profile.merge(part);
        else profile = part;
      }
      if (!profile || profile.total === 0) continue;
      this.enqueue({ service: app, fromMs: profile.startMs, untilMs: profile.endMs, body: toPprofGzip(profile), attempts: 0 });
      queued++;
    }
    this.sending ??= this.pump().finally(() => {
      this.sending = undefined;
    });
    return queued;
  }

  /** Resolves when the queue is empty and nothing is in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.sending) await this.sending;
  }

  stats(): PyroscopePushStats {
    return { ...this.counts, queued: this.queue.length };
  }

  /** Stops pushing; what is still queued or in flight is dropped and counted. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.inflight?.abort(new Error('the agent is stopping'));
    this.wakeRetry?.();
    this.counts.dropped += this.queue.length;
    this.queue.length = 0;
  }

  private enqueue(item: PendingPush): void {
    if (this.queue.length >= this.opts.queueSize) {
      this.queue.shift();
      this.counts.dropped++;
    }
    this.queue.push(item);
  }

  private async pump(): Promise<void> {
    while (!this.closed) {
      const item = this.queue.shift();
      if (!item) return;
      const result = await this.send(item);
      if (result.ok) {
        this.counts.exported++;
        continue;
      }
      if (this.closed) {
        this.counts.dropped++;
        return;
      }
      this.counts.exportFailures++;
      if (result.retry && item.attempts < this.opts.maxRetries) {
        item.attempts++;
        this.counts.retries++;
        // Back at the head, unless newer profiles filled the queue meanwhile.
        if (this.queue.length >= this.opts.queueSize) this.counts.dropped++;
        else this.queue.unshift(item);
        await this.delay(Math.min(MAX_RETRY_DELAY_MS, this.opts.retryBaseMs * 2 ** (item.attempts - 1)));
        continue;
      }
      this.counts.failed++;
      this.warn(`pyroscope: a profile of ${item.service} was not accepted (${result.reason}${item.attempts > 0 ? `, after ${item.attempts + 1} attempts` : ''})`);
    }
  }

  private async send(item: PendingPush): Promise<SendResult> {
    const url = new URL(this.ingestUrl);
    const from = Math.floor(item.fromMs / 1000);
    url.searchParams.set('name', pyroscopeIngestName(item.service, this.opts.labels ?? {}));
    url.searchParams.set('from', String(from));
    url.searchParams.set('until', String(Math.max(from + 1, Math.floor(item.untilMs / 1000))));
    url.searchParams.set('format', 'pprof');
    url.searchParams.set('sampleRate', String(this.source.frequency));
    url.searchParams.set('spyName', 'waggle');
    const ac = new AbortController();
    this.inflight = ac;
    const timer = setTimeout(() => ac.abort(new Error(`no answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
    try {
      const res = await fetch(url, { method: 'POST', body: item.body, headers: this.headers, signal: ac.signal });
      if (res.ok) {
        await res.body?.cancel().catch(() => undefined);
        return { ok: true };
      }
      const text = (await res.text().catch(() => '')).trim().slice(0, 200);
      return { ok: false, retry: res.status === 429 || res.status >= 500, reason: `HTTP ${res.status}${text ? `: ${text}` : ''}` };
    } catch (e) {
      const err = e as Error & { cause?: Error };
      const reason = ac.signal.aborted ? String((ac.signal.reason as Error)?.message ?? ac.signal.reason) : (err.cause?.message ?? err.message);
      return { ok: false, retry: true, reason };
    } finally {
      clearTimeout(timer);
      this.inflight = undefined;
    }
  }

  private delay(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wakeRetry = done;
    }).then(() => {
      this.wakeRetry = undefined;
    });
  }

  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastWarnMs < WARN_EVERY_MS) {
      this.warningsSuppressed++;
      return;
    }
    const more = this.warningsSuppressed ? ` (${this.warningsSuppressed} more failures since the last report)` : '';
    this.lastWarnMs = now;
    this.warningsSuppressed = 0;
    this.opts.onWarning?.(message + more);
  }
}

/** `<base>/ingest`, keeping a path prefix (a reverse proxy's /pyroscope). Throws on a bad URL. */
export function ingestUrl(base: string): URL {
  const u = new URL(base);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${JSON.stringify(base)} is not an http(s) URL`);
  if (u.username || u.password) throw new Error('credentials in the URL are not sent: use basic_auth_username and basic_auth_password');
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/ingest`;
  u.search = '';
  u.hash = '';
  return u;
}
