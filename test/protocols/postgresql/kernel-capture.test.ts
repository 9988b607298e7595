// The real kernel stream capture watching psql -f (issue 9's done-when script)
// and the postgres server (the postmaster, whose forked backend inherits the
// watch): their chunks, with the kernel's own head/tail cuts and timing, go
// through the platform's StreamTracker to this module. Exactly 40 SELECT
// (3 × 42P01) and 5 INSERT from each side, nothing lost or unparsed.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LocatedOperation, Operation } from '../../../src/protocols/module.js';
import { postgresql } from '../../../src/protocols/postgresql/index.js';
import { StreamTracker } from '../../../src/protocols/stream/index.js';
import { type Collected, collect } from '../../capture/helpers/capture.js';
import { type Child, sleep, startChild, waitFor, within } from '../../helpers/process.js';
import { type Cluster, startCluster } from './helpers/cluster.js';
import { tally } from './helpers/replay.js';
import { psql } from './helpers/run.js';
import { doneWhenScript } from './helpers/scripts.js';

describe('kernel stream capture → StreamTracker → postgresql, watching psql -f and the server', () => {
  let cluster: Cluster;
  let cap: Collected;
  let child: Child;
  const ops: (Operation & { pid: number; localPort: number; remotePort: number })[] = [];
  let postmaster = 0;
  let tracker: StreamTracker;
  before(async () => {
    cluster = await startCluster();
    assert.equal((await psql(cluster.port, ['-c', 'CREATE TABLE items (id int, name text)'])).code, 0);
    const file = join(cluster.dir, 'script.sql');
    writeFileSync(file, doneWhenScript());
    tracker = new StreamTracker({
      modules: [postgresql],
      onOperation: (l: LocatedOperation) => ops.push({ ...l.op, attributes: { ...l.op.attributes }, pid: l.pid, localPort: l.local.port, remotePort: l.remote.port }),
      setVerdict: (inode, verdict) => cap.capture.setStreamVerdict(inode, verdict),
    });
    cap = await collect({ onStreamChunk: (c) => tracker.handleChunk(c), onStreamEnd: (e) => tracker.handleEnd(e) });
    // The shell waits for a line, so the pid is watched before psql connects; exec keeps the pid.
    child = startChild('sh', ['-c', `read go; exec psql -X -q -h 127.0.0.1 -p ${cluster.port} -U postgres -d postgres -f ${file}`]);
    cap.capture.watch(child.pid);
    postmaster = cluster.postmasterPid();
    cap.capture.watch(postmaster);
    child.write('go\n');
    const status = await within(child.exited, 30_000, 'psql');
    assert.equal(status.code, 0, child.errors());
    await waitFor(() => {
      cap.capture.drain();
      return tracker.stats().connections === 0 && ops.length >= 90;
    }, 10_000);
    await sleep(100);
    cap.capture.drain();
  });
  after(async () => {
    try {
      await cap?.close();
    } finally {
      child?.kill();
      cluster?.stop();
    }
  });

  it('exactly 40 SELECT (3 × 42P01) and 5 INSERT from psql, with the server port', () => {
    const client = ops.filter((o) => o.role === 'client');
    assert.deepEqual(tally(client), { 'SELECT items ok': 37, 'SELECT missing_table 42P01': 3, 'INSERT items ok': 5 });
    for (const op of client) {
      assert.equal(op.pid, child.pid);
      assert.equal(op.remotePort, cluster.port);
      assert.equal(op.attributes['db.namespace'], 'postgres');
      assert.ok(op.endNs > op.startNs, 'kernel timestamps: the answer is read after the query is written');
    }
  });

  it('the same from the postgres backend (server side), each between the client\'s reads of the answer before and of its own', () => {
    const server = ops.filter((o) => o.role === 'server');
    assert.deepEqual(tally(server), { 'SELECT items ok': 37, 'SELECT missing_table 42P01': 3, 'INSERT items ok': 5 });
    const client = ops.filter((o) => o.role === 'client');
    for (const [i, op] of server.entries()) {
      assert.notEqual(op.pid, postmaster, 'a forked backend answers');
      assert.equal(op.localPort, cluster.port);
      const c = client[i]!;
      assert.equal(op.name, c.name);
      // Kernel times are taken at syscall exits, and on loopback the server's read
      // can return before the client's write has: only causality bounds it. The
      // client writes query i after reading answer i-1; the server writes answer i
      // after reading query i, and the client reads it after that.
      const previousEnd = i > 0 ? client[i - 1]!.endNs : 0;
      assert.ok(op.startNs > previousEnd && op.startNs < c.endNs, `server operation ${i} starts after the client read answer ${i - 1} and before it read answer ${i}`);
    }
  });

  it('no chunk lost, nothing unparsed or orphaned', () => {
    const [p] = tracker.stats().protocols;
    assert.deepEqual(
      { connections: p?.connections, chunksLost: p?.chunksLost, unparsed: p?.unparsed, orphans: p?.orphanResponses, overflow: p?.pendingOverflow, incomplete: p?.incomplete },
      { connections: 2, chunksLost: 0, unparsed: 0, orphans: 0, overflow: 0, incomplete: 0 },
    );
    assert.equal(cap.capture.stats().streamRingBufferDrops, 0);
  });
});
