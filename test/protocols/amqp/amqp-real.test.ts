// A real RabbitMQ and the real amqplib through the recording proxy: N
// publishes to a queue → N producer operations with the destination, N
// deliveries to a consumer → N consumer operations, a confirm channel's
// publishes ending at the broker's acks, basic.get, and a declare the broker
// refuses — replayed from the client's side and the broker's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqplib from 'amqplib';
import { amqp } from '../../../src/protocols/amqp/index.js';
import { sleep, waitFor } from '../../helpers/process.js';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { replay, tally } from '../nats/support.js';
import { type Rabbit, startRabbit } from './broker.js';

const make = (role: 'client' | 'server') => amqp.createParser(role);

describe('amqp: real rabbitmq-server and amqplib', { timeout: 120_000 }, () => {
  let rabbit: Rabbit;
  let proxy: RecordingProxy;
  before(async () => {
    rabbit = await startRabbit('real');
    proxy = await startRecordingProxy(rabbit.port);
  });
  after(async () => {
    await proxy?.close();
    await rabbit?.stop();
  });

  it('prints', async () => {
    const c = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${proxy.port}`);
    const ch = await c.createChannel();
    await ch.assertQueue('orders');
    for (let i = 0; i < 5; i++) ch.sendToQueue('orders', Buffer.from(`m${i}`));
    let got = 0;
    await ch.consume('orders', (m) => { got++; ch.ack(m!); });
    await waitFor(() => got === 5, 5000);
    await c.close();
    await sleep(100);
    for (const side of ['client', 'server'] as const) {
      const r = replay(proxy.connection(0), side, make);
      console.log(side, JSON.stringify(tally(r.ops)), r.parser.stats);
    }
  });
});
