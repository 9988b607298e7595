// Worker thread: builds packed unwind rows for one file per message, off the
// agent's event loop (a large executable's .eh_frame takes about a second).
import { parentPort } from 'node:worker_threads';
import { type RowLayout, packedRowsOfFile } from './row-pack.js';

parentPort?.on('message', (m: { id: number; path: string; layout: RowLayout; rowsLeft: number }) => {
  try {
    const r = packedRowsOfFile(m.path, m.layout, m.rowsLeft);
    parentPort!.postMessage({ id: m.id, ...r }, [r.data.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
