// The live stream (Server-Sent Events at /api/live): every `intervalMs` the
// store changed, each browser gets a `tick` (pages refetch what they show) and
// the services overview itself, computed and serialised once for everyone.
// Bounded: at most `maxClients` streams; a client that stops reading is
// skipped while its socket buffer is full, so a stuck tab costs nothing.
import type { ServerResponse } from 'node:http';
import type { LiveStore } from '../store/index.js';
import { type AgentHttpServer, sendText } from './http-server.js';

export interface LiveStreamOptions {
  intervalMs?: number;
  maxClients?: number;
  /** Window of the overview pushed with each tick. */
  overviewWindowMs?: number;
}

const HEARTBEAT_MS = 15_000;
const MAX_BUFFERED = 1 << 20;

export class LiveStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly store: LiveStore;
  private readonly maxClients: number;
  private readonly overviewWindowMs: number;
  private readonly timer: NodeJS.Timeout;
  private lastVersion = -1;
  private lastSecurityTotal = -1;
  private lastWriteMs = 0;
  /** Messages written (all clients) and skipped for full buffers, for tests and health. */
  sent = 0;
  skipped = 0;

  constructor(server: AgentHttpServer, store: LiveStore, opts: LiveStreamOptions = {}) {
    this.store = store;
    this.maxClients = opts.maxClients ?? 64;
    this.overviewWindowMs = opts.overviewWindowMs ?? 60_000;
    server.route('GET', '/api/live', (req, res) => {
      if (this.clients.size >= this.maxClients) return sendText(res, 503, `too many live streams (${this.maxClients}); close other tabs\n`);
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      res.write('retry: 2000\n\n');
      this.clients.add(res);
      // A new client gets the current state at once.
      this.write(res, this.message());
      const drop = () => this.clients.delete(res);
      req.on('close', drop);
      res.on('error', drop);
    });
    this.timer = setInterval(() => this.tick(), opts.intervalMs ?? 2_000);
    this.timer.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Pushes now if anything changed (or a heartbeat is due). */
  tick(): void {
    if (this.clients.size === 0) return;
    const now = Date.now();
    const changed = this.store.version !== this.lastVersion || this.store.security.total !== this.lastSecurityTotal;
    if (!changed) {
      if (now - this.lastWriteMs >= HEARTBEAT_MS) for (const c of this.clients) this.write(c, ': heartbeat\n\n');
      return;
    }
    const msg = this.message();
    for (const c of this.clients) this.write(c, msg);
  }

  close(): void {
    clearInterval(this.timer);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  private message(): string {
    this.lastVersion = this.store.version;
    this.lastSecurityTotal = this.store.security.total;
    const tick = { nowMs: this.store.now(), version: this.store.version, spans: this.store.spanCount, securityEvents: this.store.security.total };
    const overview = this.store.overview(this.overviewWindowMs);
    return `event: tick\ndata: ${JSON.stringify(tick)}\n\nevent: overview\ndata: ${JSON.stringify(overview)}\n\n`;
  }

  private write(res: ServerResponse, msg: string): void {
    if (res.writableLength > MAX_BUFFERED) {
      this.skipped++;
      return;
    }
    res.write(msg);
    this.sent++;
    this.lastWriteMs = Date.now();
  }
}
