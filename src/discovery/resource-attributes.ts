// OTEL_RESOURCE_ATTRIBUTES: "key1=value1,key2=value2", values percent-encoded
// (W3C Baggage octets). Per the OpenTelemetry SDK specification, a malformed
// value discards the whole variable rather than guessing.

export type ResourceAttributes = Record<string, string>;

export function parseResourceAttributes(text: string | undefined): ResourceAttributes {
  const out: ResourceAttributes = {};
  if (!text || !text.trim()) return out;
  for (const item of text.split(',')) {
    if (!item.trim()) continue;
    const eq = item.indexOf('=');
    if (eq <= 0) return {};
    const key = item.slice(0, eq).trim();
    if (!key) return {};
    try {
      out[key] = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      return {};
    }
  }
  return out;
}
