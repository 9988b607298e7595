// Every way HTTP/1.1 frames a response (RFC 9112 §6), as scripted writes: each
// string is one write() syscall of the raw server. Splits sit where real servers
// put them (Node's writev puts a chunk size and its CRLF in separate elements)
// and where nobody expects them (inside a CRLF, inside the last chunk).
import type { Script } from './raw-server.js';

export type ClientName = 'curl' | 'python-http.client' | 'python-urllib' | 'undici-fetch' | 'node-http';

export interface FramingCase extends Script {
  name: string;
  method?: 'GET' | 'HEAD' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** The final status every client and both capture sides must see. */
  status: number;
  /** Clients that cannot take this case, and why. */
  skip?: Partial<Record<ClientName, string>>;
}

const OK = 'HTTP/1.1 200 OK\r\n';
const TE = 'Transfer-Encoding: chunked\r\n';
const UNASKED_100 = 'undici drops the connection on a 100 Continue it did not ask for';
const UNTRIMMED = 'http.client compares Transfer-Encoding untrimmed, so it reads until the close';
const chunks = (n: number) => Array.from({ length: n }, (_, i) => `3\r\nc${String(i % 100).padStart(2, '0')}\r\n`).join('');

export const FRAMING_CASES: FramingCase[] = [
  { name: 'content-length', status: 200, writes: [`${OK}Content-Length: 2\r\n\r\nhi`] },
  { name: 'content-length-split', status: 200, writes: [`${OK}Content-Le`, 'ngth: 5\r\n\r', '\nhel', 'lo'] },
  { name: 'content-length-zero', status: 200, writes: [`${OK}Content-Length: 0\r\n\r\n`] },
  { name: 'content-length-404', status: 404, writes: ['HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found'] },
  { name: 'status-without-reason', status: 200, writes: ['HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nhi'] },
  { name: 'long-header-line', status: 200, writes: [`${OK}X-Long: ${'a'.repeat(3000)}\r\nContent-Length: 2\r\n\r\nhi`] },
  { name: 'long-header-line-split', status: 200, writes: [`${OK}X-Long: ${'a'.repeat(1500)}`, `${'b'.repeat(1500)}\r\nContent-`, 'Length: 2\r\n\r\nhi'] },
  { name: 'chunked', status: 200, writes: [`${OK}${TE}\r\n2\r\nhi\r\n0\r\n\r\n`] },
  // Node's res.writeHead(200); res.end('hi'): headers + "2" | "\r\n" | "hi" | "\r\n" | "0\r\n\r\n"
  { name: 'chunked-size-line-split', status: 200, writes: [`${OK}${TE}\r\n2`, '\r\n', 'hi', '\r\n', '0\r\n\r\n'] },
  { name: 'chunked-size-line-split-in-crlf', status: 200, writes: [`${OK}${TE}\r\n1`, '0\r', '\n0123456789abcdef\r\n0\r\n\r\n'] },
  { name: 'chunked-extensions', status: 200, writes: [`${OK}${TE}\r\n2;ext=1\r\nhi\r\n3;a=b\r\nabc\r\n0;last\r\n\r\n`] },
  { name: 'chunked-trailers', status: 200, writes: [`${OK}${TE}Trailer: X-Sum\r\n\r\n2\r\nhi\r\n0\r\nX-Sum: 1\r\nX-More: 2\r\n\r\n`] },
  { name: 'chunked-trailers-split', status: 200, writes: [`${OK}${TE}Trailer: X-Sum\r\n\r\n2\r\nhi\r\n0\r\n`, 'X-Su', 'm: 1\r\n', '\r\n'] },
  { name: 'chunked-last-chunk-split', status: 200, writes: [`${OK}${TE}\r\n2\r\nhi\r\n`, '0\r\n', '\r\n'] },
  { name: 'chunked-last-chunk-bytewise', status: 200, writes: [`${OK}${TE}\r\n2\r\nhi\r\n`, '0', '\r', '\n', '\r', '\n'] },
  {
    name: 'chunked-every-byte-its-own-write',
    status: 200,
    pauseMs: 1,
    writes: [...`${OK}${TE}X-Pad: ${'p'.repeat(60)}\r\n\r\n2\r\nhi\r\n0\r\n\r\n`],
  },
  { name: 'chunked-data-split', status: 200, writes: [`${OK}${TE}\r\na\r\n01234`, '56789\r', '\n0\r\n\r\n'] },
  { name: 'chunked-headers-split-in-crlf', status: 200, writes: ['HTTP/1.1 200 OK\r', `\n${TE}\r`, '\n2\r\nhi\r\n0\r\n\r\n'] },
  { name: 'chunked-long-extension', status: 200, writes: [`${OK}${TE}\r\n2;ext=${'x'.repeat(200)}\r\nhi\r\n0\r\n\r\n`] },
  { name: 'chunked-header-name-split', status: 200, writes: [`${OK}Transfer-Enc`, 'oding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n'] },
  { name: 'chunked-header-value-split', status: 200, writes: [`${OK}Transfer-Encoding: chun`, 'ked\r\n\r\n2\r\nhi\r\n0\r\n\r\n'] },
  // A header line longer than the kernel carries between writes, split inside its value's last word.
  { name: 'chunked-long-header-line-split-in-value', status: 200, writes: [`${OK}Transfer-Encoding:${' '.repeat(45)}chun`, 'ked\r\n\r\n2\r\nhi\r\n0\r\n\r\n'] },
  { name: 'content-length-long-line-split-in-value', status: 200, writes: [`${OK}Content-Length:${' '.repeat(45)}1`, '0\r\n\r\n0123456789'] },
  {
    name: 'chunked-value-trailing-space',
    status: 200,
    writes: [`${OK}Transfer-Encoding: chunked \r\n\r\n2\r\nhi\r\n0\r\n\r\n`],
    skip: { 'python-http.client': UNTRIMMED, 'python-urllib': UNTRIMMED },
  },
  {
    name: 'bare-lf-line-ends',
    status: 200,
    writes: ['HTTP/1.1 200 OK\nContent-Length: 2\n\nhi'],
    skip: { 'undici-fetch': 'undici (llhttp) refuses bare LF line ends', 'node-http': 'Node (llhttp) refuses bare LF line ends' },
  },
  {
    name: 'chunked-bare-lf-line-ends',
    status: 200,
    writes: ['HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nhi\n0\n\n'],
    skip: {
      'python-http.client': 'http.client takes the 2 bytes after chunk data for its CRLF',
      'python-urllib': 'http.client takes the 2 bytes after chunk data for its CRLF',
      'undici-fetch': 'undici (llhttp) refuses bare LF line ends',
      'node-http': 'Node (llhttp) refuses bare LF line ends',
    },
  },
  { name: 'chunked-upper-case', status: 200, writes: [`${OK}TRANSFER-ENCODING: CHUNKED\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n`] },
  // Header lines the kernel's scan passes over by their first 8 bytes, around
  // the one that frames: only Content-Length / Transfer-Encoding, in any case, count.
  {
    name: 'content-length-among-look-alikes',
    status: 200,
    writes: [`${OK}Content-Type: text/plain\r\nContent-Location: /elsewhere\r\nContent-Language: en\r\nX-Content-Length: 99\r\ncOnTeNt-LeNgTh: 2\r\nConnection: keep-alive\r\n\r\nhi`],
  },
  {
    name: 'chunked-among-look-alikes',
    status: 200,
    writes: [`${OK}Transfer-Foo: x\r\nX-Transfer-Encoding: identity\r\nContent-Type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n`],
  },
  { name: 'chunked-many-chunks-one-write', status: 200, writes: [`${OK}${TE}\r\n${chunks(40)}0\r\n\r\n`] },
  { name: 'chunked-big-chunk', status: 200, writes: [`${OK}${TE}\r\n186a0\r\n${'x'.repeat(100_000)}\r\n0\r\n\r\n`] },
  {
    name: 'chunked-and-content-length',
    status: 200,
    writes: [`${OK}Content-Length: 100\r\n${TE}\r\n2\r\nhi\r\n0\r\n\r\n`],
    skip: {
      'undici-fetch': 'undici (llhttp) refuses Content-Length with Transfer-Encoding (RFC 9112 §6.3 lets a client take either)',
      'node-http': 'Node (llhttp) refuses Content-Length with Transfer-Encoding',
    },
  },
  { name: 'head-content-length', method: 'HEAD', status: 200, writes: [`${OK}Content-Length: 100\r\n\r\n`] },
  { name: 'head-chunked', method: 'HEAD', status: 200, writes: [`${OK}${TE}\r\n`] },
  { name: 'no-content-204', status: 204, writes: ['HTTP/1.1 204 No Content\r\n\r\n'] },
  { name: 'not-modified-304', status: 304, writes: ['HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 100\r\n\r\n'] },
  { name: 'interim-100', status: 200, writes: ['HTTP/1.1 100 Continue\r\n\r\n', `${OK}${TE}\r\n2\r\nhi\r\n0\r\n\r\n`], skip: { 'undici-fetch': UNASKED_100 } },
  { name: 'interim-100-joined', status: 200, writes: [`HTTP/1.1 100 Continue\r\n\r\n${OK}Content-Length: 2\r\n\r\nhi`], skip: { 'undici-fetch': UNASKED_100 } },
  {
    name: 'early-hints-103',
    status: 200,
    writes: ['HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n', `${OK}Content-Length: 2\r\n\r\nhi`],
    skip: {
      'python-http.client': 'http.client skips only 100 and takes 103 for the final response',
      'python-urllib': 'urllib (http.client) skips only 100 and takes 103 for the final response',
    },
  },
  {
    name: 'expect-100-continue',
    method: 'POST',
    headers: { Expect: '100-continue', 'Content-Type': 'text/plain' },
    body: 'hello',
    status: 200,
    writes: [`${OK}Content-Length: 2\r\n\r\nhi`],
    skip: { 'undici-fetch': 'fetch() refuses an Expect header' },
  },
  { name: 'http10-keep-alive', status: 200, writes: ['HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi'] },
  { name: 'connection-close-content-length', status: 200, close: true, writes: [`${OK}Connection: close\r\nContent-Length: 2\r\n\r\nhi`] },
  { name: 'close-delimited', status: 200, close: true, writes: [`${OK}Connection: close\r\n\r\n`, 'hi', ' there'] },
];
