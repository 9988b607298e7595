// waggle demo: the API service. Plain node:http with the ordinary database and
// cache clients (pg, ioredis), and no telemetry code: waggle sees its HTTP, its
// PostgreSQL queries and its Redis commands from the kernel.
//
//   GET  /api/items       → nginx GET /static/items.json (a static file); redis INCR views:items
//   GET  /api/items/<id>  → redis GET item:<id>; on a miss postgres SELECT … FROM items WHERE id = $1
//                           (404 when there is no such row: ids above 100), then redis SET item:<id> EX 5
//   POST /api/orders      → nginx GET /inventory/reserve (proxied to the slow inventory), then
//                           postgres INSERT INTO orders; 201
//   GET  /api/fail        → postgres SELECT from a table that does not exist (SQLSTATE 42P01) → 500
//   GET  /api/health      → 200
//
// Environment: PORT (default 8081); NGINX_URL (e.g. http://127.0.0.1:8082), else
// the items are served from here and the inventory is called directly at
// INVENTORY_URL (default http://127.0.0.1:8083); DATABASE_URL and REDIS_URL
// (without them, e.g. when postgres or redis-server is not installed, the API
// answers from memory as it did before it had a database).
import http from 'node:http';
import { Redis } from 'ioredis';
import pg from 'pg';

const port = Number(process.env.PORT ?? 8081);
const viaNginx = Boolean(process.env.NGINX_URL);
const upstream = new URL(process.env.NGINX_URL || process.env.INVENTORY_URL || 'http://127.0.0.1:8083');
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const NAMES = ['honey', 'wax', 'pollen', 'royal jelly', 'propolis'];
const ITEMS = NAMES.map((name, i) => ({ id: i + 1, name }));

const db = process.env.DATABASE_URL ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 }) : undefined;
db?.on('error', () => {}); // a dropped idle connection is replaced on the next query
const cache = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined;
cache?.on('error', () => {}); // reconnects by itself; requests meanwhile fail and are answered 503

async function migrate() {
  if (!db) return;
  await db.query('CREATE TABLE IF NOT EXISTS items (id integer PRIMARY KEY, name text NOT NULL, price integer NOT NULL)');
  await db.query('CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, item integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now())');
  await db.query(`INSERT INTO items SELECT n, (ARRAY['${NAMES.join("','")}'])[1 + n % 5], 3 + n % 17 FROM generate_series(1, 100) AS n ON CONFLICT DO NOTHING`);
}

function upstreamGet(path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: upstream.hostname, port: upstream.port, path, agent, timeout: 5000 }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('timeout', () => req.destroy(new Error('upstream timeout')));
    req.on('error', reject);
  });
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), server: 'demo-api/2.0' });
  res.end(text);
}

async function item(id) {
  if (!db) return id > 100 ? undefined : { id, name: NAMES[id % 5], price: 3 + (id % 17) };
  const cached = cache ? await cache.get(`item:${id}`) : null;
  if (cached) return JSON.parse(cached);
  const r = await db.query('SELECT id, name, price FROM items WHERE id = $1', [id]);
  const row = r.rows[0];
  if (row && cache) await cache.set(`item:${id}`, JSON.stringify(row), 'EX', 5);
  return row;
}

async function handle(req, res) {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (req.method === 'GET' && path === '/api/items') {
    if (cache) await cache.incr('views:items');
    if (!viaNginx) return send(res, 200, ITEMS);
    const r = await upstreamGet('/static/items.json');
    return send(res, r.status === 200 ? 200 : 502, r.status === 200 ? JSON.parse(r.body) : { error: 'static' });
  }
  const one = /^\/api\/items\/(\d+)$/.exec(path);
  if (req.method === 'GET' && one) {
    const found = await item(Number(one[1]));
    return found ? send(res, 200, found) : send(res, 404, { error: 'no such item' });
  }
  if (req.method === 'GET' && path === '/api/fail') {
    if (db) await db.query('SELECT * FROM order_archive WHERE id = $1', [1]); // no such table: an error on purpose
    return send(res, 500, { error: 'simulated failure' });
  }
  if (req.method === 'GET' && path === '/api/health') return send(res, 200, { ok: true });
  if (req.method === 'POST' && path === '/api/orders') {
    let body = '';
    for await (const c of req) body += c;
    const order = JSON.parse(body || '{}');
    const itemId = Number.parseInt(order.item ?? 1, 10) || 1;
    const r = await upstreamGet(`/inventory/reserve?item=${itemId}`);
    if (r.status !== 200) return send(res, 503, { error: 'inventory unavailable' });
    const id = db ? (await db.query('INSERT INTO orders (item) VALUES ($1) RETURNING id', [itemId])).rows[0].id : undefined;
    return send(res, 201, { order: 'created', id, reservation: JSON.parse(r.body) });
  }
  return send(res, 404, { error: 'not found' });
}

await migrate();
http
  .createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) send(res, e && e.code === '42P01' ? 500 : 503, { error: String(e?.message ?? e) });
      else res.destroy();
    });
  })
  .listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
