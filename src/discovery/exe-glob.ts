// Executable path globs, matched against the whole resolved path of
// /proc/PID/exe (as Beyla's exe_path): `*` matches any run of characters,
// slashes included, so "*/python3*" matches /usr/bin/python3.11; `?` one
// character; `[abc]`/`[a-z]`/`[!x]` a class; `{a,b}` alternatives.

export type GlobParse = { ok: true; value: RegExp } | { ok: false; reason: string };

const SPECIAL = /[\\^$.*+?()[\]{}|/]/g;

function escape(text: string): string {
  return text.replace(SPECIAL, '\\$&');
}

export function compileExeGlob(glob: string): GlobParse {
  if (glob.length === 0) return { ok: false, reason: 'is empty' };
  let out = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) return { ok: false, reason: `${JSON.stringify(glob)} has an unclosed "["` };
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else if (c === '{') {
      braces++;
      out += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      out += ')';
    } else if (c === ',' && braces > 0) out += '|';
    else if (c === '\\' && i + 1 < glob.length) out += escape(glob[++i]!);
    else out += escape(c);
  }
  if (braces > 0) return { ok: false, reason: `${JSON.stringify(glob)} has an unclosed "{"` };
  try {
    return { ok: true, value: new RegExp(`^${out}$`, 's') };
  } catch (e) {
    return { ok: false, reason: `${JSON.stringify(glob)} is not a valid glob (${(e as Error).message})` };
  }
}

/** A compiled glob; throws on a malformed pattern. */
export class ExeGlob {
  private readonly re: RegExp;

  constructor(readonly pattern: string) {
    const r = compileExeGlob(pattern);
    if (!r.ok) throw new Error(`exe glob ${r.reason}`);
    this.re = r.value;
  }

  /** The path itself when the pattern has no wildcard, class, alternative or escape. */
  get literal(): string | undefined {
    return /[*?[{\\]/.test(this.pattern) ? undefined : this.pattern;
  }

  matches(path: string): boolean {
    return this.re.test(path);
  }

  toString(): string {
    return this.pattern;
  }
}
