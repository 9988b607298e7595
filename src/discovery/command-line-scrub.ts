// process.command_line without secrets: values of secret-looking options
// (--password=…, --token …, API_KEY=…), URL credentials (user:pass@ →
// REDACTED:REDACTED@, as OpenTelemetry's url.full guidance says) and
// secret-looking query parameters are replaced by REDACTED. Over-redacting a
// harmless value is the acceptable failure; leaking a secret is not.

export const REDACTED = 'REDACTED';

const SECRET_WORDS = ['pass', 'pwd', 'secret', 'token', 'apikey', 'api_key', 'api-key', 'credential', 'private', 'auth', 'signature', 'cookie', 'session', 'sig'];

export function isSecretKey(key: string): boolean {
  const k = key.replace(/^-+/, '').toLowerCase();
  if (k === 'sig' || k === 'key' || k.endsWith('_key') || k.endsWith('-key') || k.endsWith('accesskeyid')) return true;
  return SECRET_WORDS.some((w) => w !== 'sig' && k.includes(w));
}

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^/\s@:?#]*):([^/\s@?#]*)@/gi;
const QUERY_PARAM = /([?&])([^=&#\s]+)=([^&#\s]*)/g;

function scrubUrls(text: string): string {
  if (!text.includes('://') && !text.includes('?')) return text;
  return text
    .replace(URL_USERINFO, (_m, scheme: string) => `${scheme}${REDACTED}:${REDACTED}@`)
    .replace(QUERY_PARAM, (m, sep: string, key: string) => (isSecretKey(key) ? `${sep}${key}=${REDACTED}` : m));
}

/** Scrubs each argument; an option named like a secret also hides the argument after it. */
export function scrubArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  let hideNext = false;
  for (const arg of args) {
    if (hideNext) {
      hideNext = false;
      if (!arg.startsWith('-')) {
        out.push(REDACTED);
        continue;
      }
    }
    const eq = arg.indexOf('=');
    if (eq > 0 && /^-{0,2}[A-Za-z_][\w.-]*$/.test(arg.slice(0, eq)) && isSecretKey(arg.slice(0, eq))) {
      out.push(`${arg.slice(0, eq)}=${REDACTED}`);
      continue;
    }
    if (eq < 0 && /^--?[A-Za-z][\w.-]*$/.test(arg) && isSecretKey(arg)) hideNext = true;
    out.push(scrubUrls(arg));
  }
  return out;
}

/** process.command_line: the scrubbed arguments joined by spaces. */
export function scrubbedCommandLine(args: readonly string[]): string {
  return scrubArgs(args).join(' ');
}
