// Small real client programs for the messaging end-to-end tests: each starts,
// prints "ready", waits for a line on stdin (so the agent watches it from its
// first byte), does its work, prints "done" and exits. Run with the package
// root as cwd so `require('nats' | 'mqtt' | 'amqplib')` resolves.
export const NATS_PUBLISHER = String.raw`
const { connect } = require('nats');
const [url, subject, n] = process.argv.slice(1);
process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  const nc = await connect({ servers: url, reconnect: false });

  // One publish per write (flushed), as a request handler publishing one event does.
  for (let i = 0; i < Number(n); i++) { nc.publish(subject, Buffer.from('event ' + i)); await nc.flush(); }
  await nc.close();
  process.stdout.write('done\n');
  process.exit(0);
});
`;

export const NATS_SUBSCRIBER = String.raw`
const { connect } = require('nats');
const [url, subject, n] = process.argv.slice(1);
process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  const nc = await connect({ servers: url, reconnect: false });
  const sub = nc.subscribe(subject, { max: Number(n) });
  await nc.flush();
  process.stdout.write('subscribed\n');
  for await (const _ of sub) {}
  await nc.close();
  process.stdout.write('done\n');
  process.exit(0);
});
`;

export const MQTT_PUBLISHER = String.raw`
const mqtt = require('mqtt');
const [url, topic, n, qos, version] = process.argv.slice(1);
process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  const c = await mqtt.connectAsync(url, { protocolVersion: Number(version), reconnectPeriod: 0 });
  for (let i = 0; i < Number(n); i++) await c.publishAsync(topic, 'event ' + i, { qos: Number(qos) });
  await c.endAsync();
  process.stdout.write('done\n');
  process.exit(0);
});
`;

export const AMQP_PUBLISHER = String.raw`
const amqplib = require('amqplib');
const [url, queue, n] = process.argv.slice(1);
process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  const c = await amqplib.connect(url);
  const ch = await c.createConfirmChannel();
  await ch.assertQueue(queue);

  // Confirmed one by one: each publish its own write.
  for (let i = 0; i < Number(n); i++) { ch.sendToQueue(queue, Buffer.from('event ' + i)); await ch.waitForConfirms(); }
  await c.close();
  process.stdout.write('done\n');
  process.exit(0);
});
`;

export const AMQP_CONSUMER = String.raw`
const amqplib = require('amqplib');
const [url, queue, n] = process.argv.slice(1);
process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  const c = await amqplib.connect(url);
  const ch = await c.createChannel();
  await ch.assertQueue(queue);
  let got = 0;
  await ch.consume(queue, async (m) => {
    ch.ack(m);
    if (++got === Number(n)) {
      await c.close();
      process.stdout.write('done\n');
      process.exit(0);
    }
  });
  process.stdout.write('consuming\n');
});
`;
