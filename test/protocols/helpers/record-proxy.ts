// A loopback TCP proxy that records what a real client and a real server send
// each other, chunk by chunk as each side's socket delivered it, so protocol
// modules are tested on real bytes with real boundaries. toChunks() replays a
// recording as the ChunkViews the platform would hand a parser on either side.
import net from 'node:net';
import type { ChunkView } from '../../../src/protocols/module.js';

export interface RecordedChunk {
  /** c2s: client → server; s2c: server → client. */
  from: 'client' | 'server';
  /** Which proxied connection (0, 1, …, in accept order). */
  connection: number;
  data: Buffer;
  timeNs: number;
}

export interface RecordingProxy {
  port: number;
  chunks: RecordedChunk[];
  /** Chunks of one proxied connection, in order. */
  connection(i: number): RecordedChunk[];
  connections(): number;
  close(): Promise<void>;
}

export async function startRecordingProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<RecordingProxy> {
  const chunks: RecordedChunk[] = [];
  const sockets = new Set<net.Socket>();
  let next = 0;
  const server = net.createServer((client) => {
    const connection = next++;
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    const record = (from: RecordedChunk['from']) => (data: Buffer) => {
      chunks.push({ from, connection, data: Buffer.from(data), timeNs: Number(process.hrtime.bigint()) });
    };
    client.on('data', record('client'));
    upstream.on('data', record('server'));
    client.pipe(upstream);
    upstream.pipe(client);
    const done = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', done).on('error', done);
    upstream.on('close', done).on('error', done);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    chunks,
    connection: (i) => chunks.filter((c) => c.connection === i),
    connections: () => next,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A recording as the chunks a parser sees from `side`: the client writes what
 * it sent ('out') and reads what the server sent ('in'); the server the reverse.
 * `head` caps each chunk's captured head (the kernel's stream head size); the
 * rest of a longer chunk is lost but for the last `tail` bytes, as in the kernel.
 */
export function toChunks(recorded: readonly RecordedChunk[], side: 'client' | 'server', head = 2048, tail = 256): ChunkView[] {
  return recorded.map((c) => {
    const bytes = c.data.length;
    const h = c.data.subarray(0, Math.min(head, bytes));
    const t = bytes > head ? c.data.subarray(Math.max(head, bytes - tail)) : c.data.subarray(0, 0);
    return { direction: c.from === side ? 'out' : 'in', timeNs: c.timeNs, bytes, head: h, tail: t, lost: 0, tid: 1 };
  });
}
