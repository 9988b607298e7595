// Conformance: nginx (master + worker, sendfile on) × clients: static files
// (Content-Length, sendfile), gzip (chunked), return 204/304/404, HEAD,
// Expect: 100-continue; both sides watched, exact counts.
import { after, before, describe } from 'node:test';
import { sleep } from '../../helpers/process.js';
import { type Collected, collect } from '../helpers/capture.js';
import { type Nginx, nginxAvailable, startNginx } from '../helpers/servers.js';
import type { ClientName } from './helpers/framing-cases.js';
import { type MatrixCase, describeClient } from './helpers/matrix.js';

const CLIENTS: ClientName[] = ['curl', 'python-http.client', 'python-urllib', 'undici-fetch', 'node-http'];
const DIRECTIVES = `
    gzip on; gzip_types text/plain; gzip_min_length 0;
    location = /no-content { return 204; }
    location = /not-modified { return 304; }
    location = /post { return 200 "posted"; }`;
const GZIP = { 'Accept-Encoding': 'gzip' };

const CASES: MatrixCase[] = [
  { name: 'return 200 (Content-Length)', path: '/hello', status: 200 },
  { name: 'static file (sendfile, Content-Length)', path: '/index.html', status: 200 },
  { name: 'gzip (chunked)', path: '/gz.txt', headers: GZIP, status: 200 },
  { name: 'HEAD static file', path: '/index.html', method: 'HEAD', status: 200 },
  { name: 'HEAD gzip (chunked headers, no body)', path: '/gz.txt', method: 'HEAD', headers: GZIP, status: 200 },
  { name: '404 page', path: '/missing', status: 404 },
  { name: 'return 204', path: '/no-content', status: 204 },
  { name: 'return 304', path: '/not-modified', status: 304 },
  {
    name: 'POST with Expect: 100-continue',
    path: '/post',
    method: 'POST',
    headers: { Expect: '100-continue', 'Content-Type': 'text/plain' },
    body: 'x'.repeat(2000),
    status: 200,
    skip: { 'undici-fetch': 'fetch() refuses an Expect header' },
  },
  { name: 'Connection: close', path: '/hello', headers: { Connection: 'close' }, status: 200, skip: { 'undici-fetch': 'fetch() refuses a Connection header' } },
];

describe('framing conformance: nginx × clients', { skip: nginxAvailable() ? false : 'nginx is not installed (apt-get install -y nginx)' }, () => {
  let nginx: Nginx;
  let cap: Collected;
  before(async () => {
    nginx = await startNginx({ 'index.html': '<p>hi</p>\n', 'gz.txt': 'compress me '.repeat(200) }, 1, DIRECTIVES);
    cap = await collect();
    for (const pid of nginx.pids()) cap.capture.watch(pid);
  });
  after(async () => {
    // close() asserts that no program stayed loaded: the servers stop anyway.
    try {
      await cap?.close();
    } finally {
      await nginx?.stop();
    }
  });
  for (const client of CLIENTS) describeClient(client, CASES, () => ({ cap, port: nginx.port, serverPids: nginx.pids() }));
});
