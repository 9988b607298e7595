// The outcome of a total parser: a value, or a reason drawn from a small fixed set
// (reasons become metric labels, so they must stay low-cardinality).

export type ParseFailureReason =
  /** No bytes at all. */
  | 'empty'
  /** The first bytes are not an HTTP/1 request or status line (binary protocol, TLS, garbage). */
  | 'not-http'
  /** The bytes end before the start line has reached the point where it can be trusted. */
  | 'truncated-start-line'
  /** A request target that is empty or holds control characters. */
  | 'invalid-target'
  /** The version is not `HTTP/<digit>.<digit>`. */
  | 'invalid-version'
  /** The status code is not three digits followed by a space or the end of the line. */
  | 'invalid-status-code';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: ParseFailureReason };

export const PARSE_FAILURE_REASONS: readonly ParseFailureReason[] = [
  'empty',
  'not-http',
  'truncated-start-line',
  'invalid-target',
  'invalid-version',
  'invalid-status-code',
];

export function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

export function fail<T>(reason: ParseFailureReason): ParseResult<T> {
  return { ok: false, reason };
}
