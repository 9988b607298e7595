// Just enough HTTP/1 reading to assert on captured bytes (the real parsers live
// in src/protocols; tests of capture must not depend on them).

export interface RequestLine {
  method: string;
  target: string;
}

export function requestLine(bytes: Buffer): RequestLine | undefined {
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]\r\n/.exec(bytes.toString('latin1'));
  return m ? { method: m[1]!, target: m[2]! } : undefined;
}

export function statusOf(bytes: Buffer): number | undefined {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(bytes.toString('latin1'));
  return m ? Number(m[1]) : undefined;
}
