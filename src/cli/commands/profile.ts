// `waggle profile`: CPU profile of one process (or a service's processes) for
// N seconds, written as folded stacks or gzipped pprof.
//
//   waggle profile --pid 1234 --seconds 10 --frequency 99 --format folded -o out.txt
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { WaggleError } from '../../ebpf/index.js';
import { DEFAULT_FREQUENCY, checkFrequency, collectProfile, toFolded, toPprofGzip } from '../../profiling/index.js';
import { pidsOfService } from './profile-targets.js';

interface ProfileOptions {
  pid?: string[];
  service?: string;
  seconds: string;
  frequency: string;
  format: string;
  output?: string;
  unwindTables: boolean;
  stats?: boolean;
}

const MAX_SECONDS = 3600;

export function registerProfile(program: Command): Command {
  return program
    .command('profile')
    .description('sample the CPU stacks of a process or service and write a folded or pprof profile')
    .option('--pid <pid...>', 'process id(s) to profile')
    .option('--service <name>', 'profile every process whose service.name is NAME')
    .option('--seconds <n>', 'how long to sample', '10')
    .option('--frequency <hz>', `samples per second per CPU (1–999)`, String(DEFAULT_FREQUENCY))
    .option('--format <format>', 'folded or pprof', 'folded')
    .option('-o, --output <file>', 'write here (default: stdout for folded)')
    .option('--no-unwind-tables', 'walk user stacks by frame pointers only (no .eh_frame tables)')
    .option('--stats', 'print sampling and unwinding counters to stderr')
    .action(async (opts: ProfileOptions) => {
      try {
        await runProfile(opts);
      } catch (e) {
        const code = e instanceof WaggleError ? ` (${e.code})` : '';
        process.stderr.write(`waggle profile: ${(e as Error).message}${code}\n`);
        process.exitCode = e instanceof WaggleError && e.code === 'WAGGLE_ERR_INVALID_ARGUMENT' ? 2 : 1;
      }
    });
}

function invalid(message: string): never {
  throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', message);
}

async function runProfile(opts: ProfileOptions): Promise<void> {
  if (opts.format !== 'folded' && opts.format !== 'pprof') invalid(`--format must be folded or pprof, not ${JSON.stringify(opts.format)}`);
  if (opts.format === 'pprof' && !opts.output) invalid('--format pprof writes binary data: give a file with -o');
  const seconds = Number(opts.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_SECONDS) invalid(`--seconds must be a number of seconds from 0 to ${MAX_SECONDS}, got ${JSON.stringify(opts.seconds)}`);
  const frequency = checkFrequency(Number(opts.frequency), '--frequency');
  if (!opts.pid && !opts.service) invalid('give --pid PID or --service NAME');
  const pids = (opts.pid ?? []).map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n <= 0) invalid(`--pid must be a positive integer, got ${JSON.stringify(p)}`);
    return n;
  });
  if (opts.service) {
    const found = pidsOfService(opts.service);
    if (found.length === 0) invalid(`--service: no running process has service.name ${JSON.stringify(opts.service)}`);
    pids.push(...found);
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const result = await collectProfile({
      pids,
      seconds,
      frequency,
      unwindTables: opts.unwindTables,
      signal: abort.signal,
      onWarning: (m) => opts.stats && process.stderr.write(`waggle profile: ${m}\n`),
    });
    const body = opts.format === 'pprof' ? toPprofGzip(result.profile) : toFolded(result.profile);
    if (opts.output) writeFileSync(opts.output, body);
    else process.stdout.write(body);
    if (opts.stats) process.stderr.write(`${JSON.stringify({ samples: result.profile.total, stacks: result.profile.stacks.size, sampler: result.stats, tables: result.tables })}\n`);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
