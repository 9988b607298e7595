// The few header fields of an HTTP/2 header block that telemetry reads, kept
// while the block is decoded; every other field is only counted (its value
// never leaves the decoder, so Authorization and Cookie cannot). The list's
// size (RFC 9113 §6.5.2: name + value + 32 per field) is capped: past the cap
// fields are no longer kept and the block is marked `overflowed`.

/** Header list size kept per block (SETTINGS_MAX_HEADER_LIST_SIZE's usual order). */
export const MAX_HEADER_LIST_SIZE = 16384;
/** Longest value kept of a field (paths, user agents). */
const MAX_VALUE_LENGTH = 2048;

export class HeaderBlock {
  method: string | undefined;
  path: string | undefined;
  scheme: string | undefined;
  authority: string | undefined;
  status: number | undefined;
  contentType: string | undefined;
  userAgent: string | undefined;
  traceparent: string | undefined;
  contentLength: number | undefined;
  grpcStatus: number | undefined;
  /** Fields whose dynamic-table entry was unknown (joined midway). */
  unknown = 0;
  overflowed = false;
  #size = 0;

  readonly add = (name: string, value: string | undefined): void => {
    if (value === undefined) {
      this.unknown++;
      return;
    }
    this.#size += name.length + value.length + 32;
    if (this.#size > MAX_HEADER_LIST_SIZE) {
      this.overflowed = true;
      return;
    }
    const v = value.length > MAX_VALUE_LENGTH ? value.slice(0, MAX_VALUE_LENGTH) : value;
    switch (name) {
      case ':method':
        this.method = v;
        break;
      case ':path':
        this.path = v;
        break;
      case ':scheme':
        this.scheme = v;
        break;
      case ':authority':
        this.authority = v;
        break;
      case ':status': {
        const s = Number(v);
        if (Number.isInteger(s) && s >= 100 && s <= 999) this.status = s;
        break;
      }
      case 'content-type':
        this.contentType = v.toLowerCase();
        break;
      case 'user-agent':
        this.userAgent = v;
        break;
      case 'traceparent':
        this.traceparent = v;
        break;
      case 'content-length': {
        const n = Number(v);
        if (Number.isSafeInteger(n) && n >= 0) this.contentLength = n;
        break;
      }
      case 'grpc-status': {
        const n = Number(v);
        if (Number.isInteger(n) && n >= 0 && n < 1000) this.grpcStatus = n;
        break;
      }
      case 'host':
        this.authority ??= v;
        break;
    }
  };
}
