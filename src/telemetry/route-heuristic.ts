// Which path segments are identifiers rather than names. A segment that is an id
// becomes the placeholder `{id}`, so `/users/42/orders/9f8e…` reports as
// `/users/{id}/orders/{id}`. Rules, in order (any match → id):
//   - all digits: `42`, `2024`
//   - a UUID, with or without dashes
//   - 8+ hex characters with at least one digit: git SHAs, Mongo ObjectIds
//   - 16+ characters of base64/base64url alphabet with a digit: tokens, hashes
//   - 3+ characters, at least half of them digits, not a version (`v10`): dates,
//     `12.5`, `123abc4`
//   - an e-mail address, or anything longer than 64 characters
// Words, `v1`, `api`, `user123`-style names stay (the per-service fan-out limit
// catches those when they vary too much).

export const ID_PLACEHOLDER = '{id}';

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]{8,}$/i;
const TOKEN = /^[A-Za-z0-9_\-+=~.%]{16,}$/;
const VERSION = /^v\d{1,3}(?:\.\d+)*$/i;

export function isIdSegment(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  let digits = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) digits++;
  }
  if (digits === n) return true;
  if (n > 64) return true;
  if (s.includes('@')) return true;
  if (digits === 0) return false;
  if (n >= 32 && UUID.test(s)) return true;
  if (n >= 8 && HEX.test(s)) return true;
  if (n >= 16 && TOKEN.test(s)) return true;
  if (n >= 3 && digits * 2 >= n && !VERSION.test(s)) return true;
  return false;
}

/** Replaces identifiers by the placeholder in place; returns `segments`. */
export function replaceIds(segments: string[]): string[] {
  for (let i = 0; i < segments.length; i++) if (isIdSegment(segments[i]!)) segments[i] = ID_PLACEHOLDER;
  return segments;
}
