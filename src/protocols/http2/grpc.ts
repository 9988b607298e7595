// gRPC over HTTP/2 (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
// the service and method from `:path`, status names, which statuses are errors
// per the OpenTelemetry RPC conventions, and the count of length-prefixed
// messages in a DATA stream (1 byte compressed flag, 4 bytes length, message).

export const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** Statuses a server reports as errors (semconv: the server's fault); a client reports every status but OK. */
const SERVER_ERRORS: ReadonlySet<number> = new Set([2, 4, 12, 13, 14, 15]);

/** error.type of a call with `status` as seen from `role`, or undefined when it is not an error there. */
export function grpcErrorType(status: number, role: 'client' | 'server'): string | undefined {
  if (status === 0) return undefined;
  if (role === 'server' && !SERVER_ERRORS.has(status)) return undefined;
  return GRPC_STATUS_NAMES[status] ?? String(status);
}

export function isGrpcContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && (contentType === 'application/grpc' || contentType.startsWith('application/grpc+') || contentType.startsWith('application/grpc;'));
}

/** `/package.Service/Method` → [service, method]; undefined when the path is not of that form. */
export function splitGrpcPath(path: string): [string, string] | undefined {
  if (path.length < 4 || path.charCodeAt(0) !== 0x2f) return undefined;
  const slash = path.indexOf('/', 1);
  if (slash <= 1 || slash === path.length - 1 || path.indexOf('/', slash + 1) >= 0) return undefined;
  return [path.slice(1, slash), path.slice(slash + 1)];
}

/**
 * Counts length-prefixed messages in one direction of one call, fed the DATA
 * payload bytes in order. A hole across a prefix loses the count's sync
 * (`exact` false): the count is then a lower bound.
 */
export class GrpcMessageCounter {
  count = 0;
  exact = true;
  /** Prefix bytes read of the next message (0..4), and the prefix so far. */
  #prefixAt = 0;
  #length = 0;
  /** Message bytes still to skip. */
  #skip = 0;
  #lost = false;

  bytes(b: Uint8Array | undefined, n: number): void {
    if (this.#lost) return;
    if (b === undefined) {
      if (this.#prefixAt === 0 && n <= this.#skip) {
        this.#skip -= n;
        return;
      }
      this.#lost = true;
      this.exact = false;
      return;
    }
    let i = 0;
    while (i < n) {
      if (this.#skip > 0) {
        const t = Math.min(this.#skip, n - i);
        this.#skip -= t;
        i += t;
        continue;
      }
      const byte = b[i++]!;
      if (this.#prefixAt === 0) {
        this.#length = 0;
      } else {
        this.#length = this.#length * 256 + byte;
      }
      this.#prefixAt++;
      if (this.#prefixAt === 5) {
        this.#prefixAt = 0;
        this.count++;
        this.#skip = this.#length;
      }
    }
  }
}
