// waggle demo: the load driver. Keeps a modest, steady mix of requests going to
// the front end (keep-alive connections, at most 64 in flight), so the demo's
// services always have traffic, errors and slow calls to show.
//
// Environment: TARGET (default http://127.0.0.1:8080), RATE requests/s (default 20),
// VERBOSE=1 prints a line every 10 s.
import http from 'node:http';

const target = new URL(process.env.TARGET ?? 'http://127.0.0.1:8080');
const rate = Math.max(0.1, Number(process.env.RATE ?? 20));
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const MAX_IN_FLIGHT = 64;

/** [weight, path] — 404s, 5xx and a slow route on purpose. */
const MIX = [
  [44, () => '/'],
  [32, () => `/product/${1 + Math.floor(Math.random() * 104)}`],
  [17, () => '/checkout'],
  [3, () => '/fail'],
  [4, () => '/no-such-page'],
];
const TOTAL = MIX.reduce((a, [w]) => a + w, 0);

function pick() {
  let r = Math.random() * TOTAL;
  for (const [w, path] of MIX) {
    if ((r -= w) < 0) return path();
  }
  return '/';
}

let inFlight = 0;
const counts = { sent: 0, ok: 0, client: 0, server: 0, failed: 0, skipped: 0 };

function fire() {
  if (inFlight >= MAX_IN_FLIGHT) {
    counts.skipped++;
    return;
  }
  inFlight++;
  counts.sent++;
  const req = http.get({ host: target.hostname, port: target.port, path: pick(), agent, timeout: 10_000, headers: { 'user-agent': 'waggle-demo-load/1.0' } }, (res) => {
    res.resume();
    res.on('end', () => {
      inFlight--;
      const s = res.statusCode ?? 0;
      if (s < 400) counts.ok++;
      else if (s < 500) counts.client++;
      else counts.server++;
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => {
    inFlight--;
    counts.failed++;
  });
}

// Ticks of 50 ms; fractional requests carry over so any rate is kept on average.
const TICK_MS = 50;
let owed = 0;
const timer = setInterval(() => {
  owed += (rate * TICK_MS) / 1000;
  while (owed >= 1) {
    owed--;
    fire();
  }
}, TICK_MS);

if (process.env.VERBOSE) setInterval(() => console.log(`load: ${JSON.stringify(counts)}`), 10_000).unref();
console.log(`load driving ${target.origin} at ${rate} requests/s`);
for (const s of ['SIGINT', 'SIGTERM']) {
  process.on(s, () => {
    clearInterval(timer);
    agent.destroy();
    process.exit(0);
  });
}
