// Socket capture: kernel programs that pair HTTP/1 requests and responses per
// TCP connection, and the Exchanges user space gets from them.
export { SocketCapture, CAPTURE_OBJECT, CAPTURE_OBJECT_KFUNC, CAPTURE_OBJECT_LEGACY, type InjectStatus, type TlsStatus } from './socket-capture.js';
export { INJECT_OBJECT, type TraceparentInjectorStats } from './traceparent-injector.js';
export { type CaptureHooks, fexitHooksMissing, socketHooksMissing } from './hook-choice.js';
export type { TlsProbeStats } from './tls-probes.js';
export type { SocketCaptureOptions } from './options.js';
export { CAPTURE_DEFAULTS, REQUEST_CAPTURE_MAX, RESPONSE_CAPTURE_MAX, STREAM_HEAD_MAX, STREAM_SEGMENTS_MAX, STREAM_TAIL_MAX } from './options.js';
export type { CaptureStats } from './capture-stats.js';
export type { CarriedContext, Exchange, Endpoint, Role } from './exchange.js';
export type { StreamChunk, StreamEnd, Direction } from './stream.js';
export { ExchangeDecoder } from './exchange-record.js';
export { formatAddress } from './address.js';
