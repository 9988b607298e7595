// waggle demo: the front end. Plain node:http, no dependencies, no telemetry
// code: waggle sees it from the kernel. Each page calls the API service.
//
//   GET /              → api GET /api/items
//   GET /product/<id>  → api GET /api/items/<id>   (404 from the API for ids > 100)
//   GET /checkout      → api POST /api/orders      (slow: the API waits on inventory)
//   GET /fail          → api GET /api/fail         (500 from the API → 502 here)
//   anything else      → 404, no call
//
// Environment: PORT (default 8080), API_URL (default http://127.0.0.1:8081).
import http from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const api = new URL(process.env.API_URL ?? 'http://127.0.0.1:8081');
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function callApi(method, path, body) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: api.hostname,
        port: api.port,
        method,
        path,
        agent,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        timeout: 5000,
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('api timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

function send(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://frontend');
  const product = /^\/product\/(\d+)$/.exec(url.pathname);
  if (req.method === 'GET' && url.pathname === '/') {
    const r = await callApi('GET', '/api/items');
    const items = r.status === 200 ? JSON.parse(r.body) : [];
    return send(res, r.status === 200 ? 200 : 502, `<h1>waggle demo shop</h1><ul>${items.map((i) => `<li>${i.name}</li>`).join('')}</ul>`);
  }
  if (req.method === 'GET' && product) {
    const r = await callApi('GET', `/api/items/${product[1]}`);
    return send(res, r.status === 200 ? 200 : r.status === 404 ? 404 : 502, r.status === 200 ? JSON.parse(r.body) : { error: 'no such product' });
  }
  if (req.method === 'GET' && url.pathname === '/checkout') {
    const r = await callApi('POST', '/api/orders', { item: 1 + Math.floor(Math.random() * 100), quantity: 1 });
    return send(res, r.status === 201 ? 200 : 502, r.status === 201 ? JSON.parse(r.body) : { error: 'checkout failed' });
  }
  if (req.method === 'GET' && url.pathname === '/fail') {
    const r = await callApi('GET', '/api/fail');
    return send(res, r.status === 200 ? 200 : 502, { error: `api answered ${r.status}` });
  }
  return send(res, 404, { error: 'not found' });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => send(res, 502, { error: String(e?.message ?? e) }));
});
server.keepAliveTimeout = 10_000;
server.listen(port, '127.0.0.1', () => console.log(`frontend listening on 127.0.0.1:${port}`));
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => server.close(() => process.exit(0)).closeAllConnections());
