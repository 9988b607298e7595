// waggle-test: no-kernel
// FramingLossCounter: exchanges whose framing was lost, by service, side and
// peer; a server's peer is the client address (its port is ephemeral), a
// client's the server's address:port; bounded, with an _OTHER bucket.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Exchange } from '../../src/capture/exchange.js';
import { FRAMING_LOSS_OTHER_PEER, FramingLossCounter } from '../../src/telemetry/index.js';

const exchange = (role: 'server' | 'client', address: string, port: number): Exchange =>
  ({ role, remote: { address, port }, framingLost: true }) as Exchange;

test('series by service, side and peer: the client port is not part of a server-side peer', () => {
  const c = new FramingLossCounter();
  c.add('api', exchange('server', '10.0.0.1', 40001));
  c.add('api', exchange('server', '10.0.0.1', 40002));
  c.add('api', exchange('client', '10.0.0.9', 8080));
  c.add('web', exchange('server', '10.0.0.1', 40003));
  assert.equal(c.total, 4);
  assert.deepEqual(c.series(), [
    { service: 'api', role: 'server', peer: '10.0.0.1', count: 2 },
    { service: 'api', role: 'client', peer: '10.0.0.9:8080', count: 1 },
    { service: 'web', role: 'server', peer: '10.0.0.1', count: 1 },
  ]);
});

test('past the cap, new peers count under _OTHER and known ones keep counting', () => {
  const c = new FramingLossCounter(2);
  c.add('api', exchange('client', '10.0.0.1', 80));
  c.add('api', exchange('client', '10.0.0.2', 80));
  for (let i = 3; i < 10; i++) c.add('api', exchange('client', `10.0.0.${i}`, 80));
  c.add('api', exchange('client', '10.0.0.1', 80));
  assert.equal(c.total, 10);
  assert.deepEqual(c.series(), [
    { service: 'api', role: 'client', peer: '10.0.0.1:80', count: 2 },
    { service: 'api', role: 'client', peer: '10.0.0.2:80', count: 1 },
    { service: 'api', role: 'client', peer: FRAMING_LOSS_OTHER_PEER, count: 7 },
  ]);
});
