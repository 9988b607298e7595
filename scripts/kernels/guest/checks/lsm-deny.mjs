// Enforcement before the operation: policies with action deny, run by BPF LSM
// programs, make the system call fail with EPERM and the operation never
// happen, which sigkill cannot do (docs/policies.md):
//   - `cat /etc/shadow` fails ("Operation not permitted"), an allow-listed head reads it;
//   - `echo x > FILE` (open with O_TRUNC) fails and FILE keeps its contents;
//   - exec of a denied binary fails and it never runs;
//   - connect to a denied port fails and the listener accepts nothing;
// and each event says action deny. Also checks the verifier's stack depth and
// instruction count for the LSM programs (they cannot load on hosts without
// BPF trampolines, so this is where they are measured), and runs the suite's
// own test file for deny (test/security/deny-policy.test.ts), whose BPF LSM
// half skips on such hosts.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WAGGLE, doctorSaysOff, fail, kernelLacks, ok, off, run, start, tail, until } from '../lib.mjs';

const F = {
  open: 'lsm-deny:open-etc-shadow',
  truncate: 'lsm-deny:open-trunc-leaves-file',
  allow: 'lsm-deny:allow-listed-binary-reads',
  exec: 'lsm-deny:exec',
  connect: 'lsm-deny:connect',
  verifier: 'lsm-deny:verifier-limits',
  tests: 'lsm-deny:test-file',
  budget: 'lsm-deny:bpf-budget',
};

const policy = (name, hook, selectors) => `apiVersion: waggle.dev/v1alpha1
kind: SecurityPolicy
metadata:
  name: ${name}
spec:
  hook: ${hook}
  selectors:
${selectors}`;

const parse = (text) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return undefined;
      }
    })
    .filter(Boolean);

/** fail, or off when the reason is the kernel lacking something waggle needs (a helper newer than it…). */
const failOrOff = (reason) => (kernelLacks(reason) ? off(reason) : fail(reason));

/**
 * The security build that loads here with its life-cycle and an LSM program (the
 * agent's order: the object, then its legacy build for 5.10–5.16), or why none does.
 */
async function securityBuild(repo) {
  const { ObjectSpec } = await import(pathToFileURL(join(repo, 'dist/src/ebpf/index.js')).href);
  const refusals = [];
  for (const name of ['security', 'security_legacy']) {
    const object = join(repo, `dist/bpf/security/${name}.bpf.o`);
    const spec = ObjectSpec.open(object);
    try {
      spec.selectPrograms(['on_exec', 'on_fork', 'on_exit', 'lsm_file_open']);
      spec.load().close();
      return { object };
    } catch (e) {
      refusals.push(`${name}.bpf.o: ${String(e.message ?? e).split('\n')[0]}`);
    } finally {
      spec.close();
    }
  }
  return { refusal: refusals.join('; ') };
}

export default {
  name: 'lsm-deny',
  timeoutMs: 240_000,
  async run(ctx) {
    // The security object's life-cycle programs and ring buffer, and BPF LSM (doctor's probe attaches one and sees it fire).
    const why = doctorSaysOff(ctx, ['raw_tracepoint', 'ringbuf', 'lsm']);
    if (why) return Object.fromEntries(Object.values(F).map((f) => [f, off(why)]));
    // An object the kernel refuses for something it lacks (bpf_loop callbacks before 5.13…) is
    // off for every feature here; any other refusal fails them all, naming it.
    const { object, refusal } = await securityBuild(ctx.repo);
    if (refusal) return Object.fromEntries(Object.values(F).map((f) => [f, failOrOff(`the security object with an LSM program does not load: ${refusal}`)]));
    const features = {};

    const lsm = ['lsm_file_open', 'lsm_bprm_check', 'lsm_socket_connect'];
    // The project's budget (npm run bpf:budget) under the agent's load profiles,
    // the shipped pack turned to deny among them: the LSM programs of the build
    // the agent loads here, verified with its real constants (bpftool's loadall
    // sets none, and this is no figure of what runs). Two verdicts: the LSM
    // programs' own limits (verifier-limits: stack ≤ 320 B, < 150k insns) and
    // the project's budget (bpf-budget).
    const budgetScript = join(ctx.repo, 'dist/scripts/bpf-budget.js');
    if (existsSync(budgetScript)) {
      const b = await run(process.execPath, [budgetScript, '--json', 'security/'], 180_000);
      let rows;
      try {
        rows = JSON.parse(b.out).filter((r) => lsm.includes(r.program) && object.endsWith(`/${r.object}`));
      } catch {
        rows = undefined;
      }
      process.stderr.write(`lsm-deny: bpf:budget: ${JSON.stringify(rows)}\n`);
      const describe = (r) => `${r.program}: stack ${r.stackBytes} B (${r.chain.join(' → ')}), ${r.processedInsns} insns`;
      const verdict = (limitStack, limitInsns) => {
        if (rows?.length !== lsm.length) return failOrOff(`bpf:budget: ${rows ? JSON.stringify(rows) : `exit ${b.code}: ${tail(b.err)}`}`);
        const bad = rows.filter((r) => r.status !== 'ok' || r.stackBytes > limitStack || r.processedInsns >= limitInsns);
        return bad.length === 0 ? { ...ok(), detail: rows.map(describe).join('; ') } : fail(`over ${limitStack} B or ${limitInsns} insns: ${JSON.stringify(bad)}`);
      };
      features[F.verifier] = verdict(320, 150_000);
      features[F.budget] = verdict(384, 250_001);
    } else {
      features[F.verifier] = features[F.budget] = fail(`${budgetScript} is missing: run npm run build`);
    }

    // Alone, before this check's own agent starts.
    const testFile = join(ctx.repo, 'dist/test/security/deny-policy.test.js');
    if (existsSync(testFile)) {
      const t = await run(process.execPath, ['--test', '--test-reporter=tap', testFile], 120_000);
      const count = (k) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(t.out)?.[1] ?? -1);
      features[F.tests] =
        // Its BPF LSM half must have run here, not skipped.
        t.code === 0 && count('pass') > 0 && count('fail') === 0 && !t.out.includes('# SKIP BPF LSM unavailable')
          ? { ...ok(), detail: `${count('pass')} passed` }
          : failOrOff(`node --test deny-policy: exit ${t.signal ?? t.code}, pass ${count('pass')}, fail ${count('fail')}: ${tail(t.out, 12)}`);
    } else {
      features[F.tests] = fail(`${testFile} is missing: run npm run build`);
    }
    const dir = mkdtempSync('/tmp/waggle-lsm-');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'intact\n');
    const server = createServer((c) => {
      accepted++;
      c.destroy();
    });
    let accepted = 0;
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const port = server.address().port;
    const file = join(dir, 'deny.yaml');
    writeFileSync(
      file,
      [
        // Not this process: it reads the victim file to check it.
        policy('kernels-file-deny', 'file_open', `    - paths: {equal: [/etc/shadow, ${victim}]}\n      binary: {notEqual: [/usr/bin/head]}\n      pid: {notIn: [${process.pid}]}\n      action: deny\n`),
        policy('kernels-exec-deny', 'exec', '    - binary: {equal: [/usr/bin/touch]}\n      action: deny\n'),
        policy('kernels-connect-deny', 'connect', `    - destination: {cidr: [127.0.0.1], ports: [${port}]}\n      action: deny\n`),
      ].join('---\n'),
    );
    const events = start(process.execPath, [...WAGGLE, 'events', '--policy', file, '-o', 'json', '--types', 'file_open,exec,connect']);
    try {
      const early = await Promise.race([
        until('waggle events never said it was watching', () => events.err.includes('3 active policies'), 150_000).then(() => undefined),
        events.exited.then((r) => `waggle events exited ${r.signal ?? r.code}: ${tail(events.err)}`),
      ]);
      if (early) {
        // Without doctor's verdict, the agent's own refusal says the kernel cannot deny: off, not failed.
        const refused = /asks for deny, which this kernel cannot do: (.*?) \(set spec\.denyFallback/.exec(events.err)?.[1];
        const verdict = refused ? off(refused) : failOrOff(early);
        return { ...features, ...Object.fromEntries([F.open, F.truncate, F.allow, F.exec, F.connect].map((f) => [f, verdict])) };
      }
      const denied = (pred) => () => parse(events.out).some((e) => e.action === 'deny' && e.dry_run === false && pred(e));
      const expectEvent = async (name, what, pred) => {
        try {
          await until(what, denied(pred), 20_000);
        } catch (e) {
          features[name] = fail(`${e.message}; events: ${events.out.slice(-600)}`);
          return false;
        }
        return true;
      };

      const cat = await run('/usr/bin/bash', ['-c', 'cat /etc/shadow > /dev/null; echo "status=$?"'], 30_000);
      if (cat.out.trim() !== 'status=1' || !cat.err.includes('cat: /etc/shadow: Operation not permitted')) {
        features[F.open] = fail(`cat /etc/shadow: ${JSON.stringify(cat.out.trim())} ${JSON.stringify(cat.err.trim())}`);
      } else if (await expectEvent(F.open, 'no deny event for cat /etc/shadow', (e) => e.type === 'file_open' && e.file?.path === '/etc/shadow' && e.process?.binary === '/usr/bin/cat')) {
        features[F.open] = { ...ok(), detail: cat.err.trim() };
      }

      const trunc = await run('/usr/bin/bash', ['-c', `echo overwritten > ${victim}; echo "status=$?"`], 30_000);
      const after = readFileSync(victim, 'utf8');
      if (trunc.out.trim() !== 'status=1' || !trunc.err.includes('Operation not permitted') || after !== 'intact\n') {
        features[F.truncate] = fail(`echo > victim: ${JSON.stringify(trunc.out.trim())} ${JSON.stringify(trunc.err.trim())}; contents now ${JSON.stringify(after)}`);
      } else if (
        await expectEvent(F.truncate, 'no deny event for the truncating open', (e) => e.type === 'file_open' && e.file?.path === victim && e.file.flags.join(',') === 'write,create,truncate')
      ) {
        features[F.truncate] = { ...ok(), detail: `contents ${JSON.stringify(after)} after: ${trunc.err.trim()}` };
      }

      const head = await run('/usr/bin/bash', ['-c', 'head -c 5 /etc/shadow | wc -c'], 30_000);
      features[F.allow] = head.out.trim() === '5' ? ok() : fail(`head -c 5 /etc/shadow | wc -c printed ${JSON.stringify(head.out.trim())} ${JSON.stringify(head.err.trim())}`);

      const made = join(dir, 'made-by-touch');
      const touch = await run('/usr/bin/bash', ['-c', `/usr/bin/touch ${made}; echo "status=$?"`], 30_000);
      if (touch.out.trim() !== 'status=126' || !touch.err.includes('Operation not permitted') || existsSync(made)) {
        features[F.exec] = fail(`touch: ${JSON.stringify(touch.out.trim())} ${JSON.stringify(touch.err.trim())}; file exists: ${existsSync(made)}`);
      } else if (await expectEvent(F.exec, 'no deny event for the exec of touch', (e) => e.type === 'exec' && e.file?.path === '/usr/bin/touch')) {
        features[F.exec] = { ...ok(), detail: touch.err.trim() };
      }

      const conn = await run('/usr/bin/bash', ['-c', `echo hi > /dev/tcp/127.0.0.1/${port}; echo "status=$?"`], 30_000);
      await new Promise((r) => setTimeout(r, 300));
      if (conn.out.trim() !== 'status=1' || !conn.err.includes('Operation not permitted') || accepted !== 0) {
        features[F.connect] = fail(`connect: ${JSON.stringify(conn.out.trim())} ${JSON.stringify(conn.err.trim())}; accepted ${accepted}`);
      } else if (await expectEvent(F.connect, 'no deny event for the connect', (e) => e.type === 'connect' && e.destination?.port === port)) {
        features[F.connect] = { ...ok(), detail: `accepted ${accepted}: ${conn.err.trim()}` };
      }
      process.stderr.write(`lsm-deny: events: ${parse(events.out).map((e) => `${e.type} ${e.policy} ${e.action} ${e.file?.path ?? e.destination?.port ?? ''} ${e.process?.binary} ${e.syscall}`).join(' ; ')}\n`);
      return features;
    } finally {
      await events.stop();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
