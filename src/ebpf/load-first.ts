// Builds of one object for different kernels (…_kfunc, plain, …_legacy), tried
// newest first: the first that loads wins. When none does, the error thrown is
// the last build's (its type, code and verifier log kept): the most portable
// build's refusal comes first in its message (a feature's reason is cut to a
// line), then every other build's, so a feature reported off says why each was.
//
// WAGGLE_BPF_BUILD=legacy in the environment keeps only the legacy builds: what
// kernels 5.10–5.16 run, tested on a newer kernel (they load there too).

export function loadFirst<T>(names: readonly string[], load: (name: string) => T): { value: T; name: string } {
  const tried = process.env.WAGGLE_BPF_BUILD === 'legacy' ? names.filter((n) => n.endsWith('_legacy')) : names;
  const failures: { name: string; error: unknown }[] = [];
  for (const name of tried) {
    try {
      return { value: load(name), name };
    } catch (error) {
      failures.push({ name, error });
    }
  }
  const last = failures.at(-1)?.error;
  if (failures.length > 1 && last instanceof Error) {
    const others = failures.slice(0, -1).map((f) => `${f.name}: ${f.error instanceof Error ? f.error.message : String(f.error)}`);
    last.message = `${last.message} (also refused: ${others.join('; ')})`;
  }
  throw last ?? new Error(`no build of ${names.join(', ')} to load (WAGGLE_BPF_BUILD=${process.env.WAGGLE_BPF_BUILD ?? ''})`);
}
