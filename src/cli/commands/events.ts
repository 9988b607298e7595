// `waggle events`: process and policy events as they happen, compactly for a
// person (Tetragon's `getevents -o compact`) or as JSON lines, optionally also
// appended to a file. Runs until SIGINT/SIGTERM.
import type { Command } from 'commander';
import { WaggleError } from '../../ebpf/index.js';
import { untilSignal } from '../until-signal.js';
import {
  type SecurityEvent,
  JsonLinesWriter,
  PolicyError,
  LineBatch,
  SecurityAgent,
  defaultPolicyDir,
  eventJson,
  formatCompact,
} from '../../security/index.js';

interface EventsOptions {
  policy?: string[];
  defaultPolicies?: boolean;
  dryRun?: boolean;
  output: string;
  eventsFile?: string;
  types?: string;
  timestamps?: boolean;
  plain?: boolean;
  forks: string;
  ownProcesses: string;
}

const ALL_TYPES = ['process_exec', 'process_exit', 'process_fork', 'exec', 'file_open', 'connect', 'bind', 'setuid', 'ptrace', 'mount', 'module_load'];
const DEFAULT_TYPES = ALL_TYPES.filter((t) => t !== 'process_fork');
/** Past this much unwritten output (a slow terminal or pipe), events are dropped and counted. */
const MAX_PENDING_STDOUT = 4 << 20;

export function registerEvents(program: Command): Command {
  return program
    .command('events')
    .description('print process events and policy events (file opens, execs, connects…) as they happen')
    .option('--policy <path...>', 'policy file or directory of *.yaml (repeatable)')
    .option('--default-policies', `load the default policy pack (${defaultPolicyDir()})`)
    .option('--dry-run', 'report sigkill actions without sending the signal')
    .option('-o, --output <format>', 'compact or json', 'compact')
    .option('--events-file <path>', 'also append every event to this file as JSON lines')
    .option('--types <list>', `comma-separated event types to print (${ALL_TYPES.join(', ')})`, DEFAULT_TYPES.join(','))
    .option('--timestamps', 'compact output: start each line with the event time')
    .option('--plain', 'compact output: words instead of emoji')
    .option(
      '--forks <mode>',
      'fork records from the kernel: all, or needed (only forks that a later exec names as parent, for its ancestry; other fork records, and exits of forks that never exec, are not sent, and counted); auto: needed unless --types or --events-file shows forks',
      'auto',
    )
    .option('--own-processes <mode>', "life-cycle records of this command's own descendants: cut (counted) or report", 'cut')
    .action(async (opts: EventsOptions) => {
      if (opts.output !== 'compact' && opts.output !== 'json') {
        process.stderr.write(`waggle events: --output must be compact or json, not ${JSON.stringify(opts.output)}\n`);
        process.exitCode = 2;
        return;
      }
      const types = new Set(String(opts.types).split(',').map((t) => t.trim()).filter(Boolean));
      const unknown = [...types].filter((t) => !ALL_TYPES.includes(t));
      if (unknown.length > 0) {
        process.stderr.write(`waggle events: --types: unknown type ${unknown.join(', ')} (known: ${ALL_TYPES.join(', ')})\n`);
        process.exitCode = 2;
        return;
      }
      if (!['all', 'needed', 'auto'].includes(opts.forks) || !['cut', 'report'].includes(opts.ownProcesses)) {
        process.stderr.write(`waggle events: --forks must be all, needed or auto and --own-processes cut or report\n`);
        process.exitCode = 2;
        return;
      }
      // The user asked not to see forks: the kernel need not send those no exec needs.
      const forkRecords = opts.forks === 'auto' ? (types.has('process_fork') || opts.eventsFile ? 'all' : 'needed') : (opts.forks as 'all' | 'needed');
      const policyPaths = [...(opts.policy ?? []), ...(opts.defaultPolicies ? [defaultPolicyDir()] : [])];
      const file = opts.eventsFile ? new JsonLinesWriter(opts.eventsFile) : undefined;
      const color = opts.output === 'compact' && process.stdout.isTTY === true;
      let droppedOutput = 0;
      const stdout = new LineBatch(process.stdout, MAX_PENDING_STDOUT);
      const compact = { color, plain: opts.plain ?? false, timestamps: opts.timestamps ?? false };
      const print = (e: SecurityEvent) => {
        file?.write(e);
        if (!types.has(e.type)) return;
        if (!stdout.push(opts.output === 'json' ? eventJson(e) : formatCompact(e, compact))) droppedOutput++;
      };

      let agent: SecurityAgent;
      try {
        agent = await SecurityAgent.start({
          policyPaths,
          dryRun: opts.dryRun ?? false,
          // Nothing here reads past events: keeping 1000 of them alive only moves every event to the old generation.
          recentEvents: 0,
          forkRecords,
          ownProcesses: opts.ownProcesses as 'cut' | 'report',
          onEvent: print,
          onWarning: (m) => process.stderr.write(`waggle events: warning: ${m}\n`),
        });
      } catch (e) {
        await file?.close();
        if (e instanceof PolicyError) {
          process.stderr.write(`waggle events: invalid policy\n  ${e.issues.join('\n  ')}\n`);
          process.exitCode = 2;
          return;
        }
        if (e instanceof WaggleError) {
          process.stderr.write(`waggle events: cannot start: ${e.message}\n`);
          process.exitCode = 1;
          return;
        }
        throw e;
      }
      const active = agent.stats().policies.filter((p) => p.active).length;
      process.stderr.write(
        `waggle events: watching${agent.policies.length ? ` with ${active} active ${active === 1 ? 'policy' : 'policies'}${opts.dryRun ? ' (dry run)' : ''}` : ' process events'}; Ctrl-C to stop\n`,
      );
      await untilSignal();
      const stats = agent.stats();
      await agent.close();
      stdout.flush();
      await file?.close();
      const lost = stats.ringBuffer.kernelDrops + stats.ringBuffer.lostNoMemory;
      const l = stats.lifecycle;
      const cut = [
        l.forksCut ? `${l.forksCut - l.forksLate} fork records and ${l.forkExitsCut} exits of forks that never exec'd not sent (--forks needed)` : '',
        l.ownCut ? `${l.ownCut} records of its own processes not sent` : '',
      ].filter(Boolean);
      const fileStats = file?.stats();
      process.stderr.write(
        `waggle events: ${Object.values(stats.events).reduce((a, b) => a + b, 0)} events, ${lost} lost in the kernel` +
          `${cut.length ? `, ${cut.join(', ')}` : ''}` +
          `${droppedOutput ? `, ${droppedOutput} not printed (output too slow)` : ''}` +
          `${fileStats ? `, ${fileStats.written} written to ${opts.eventsFile}${fileStats.dropped ? ` (${fileStats.dropped} dropped)` : ''}${fileStats.lastError ? ` (error: ${fileStats.lastError})` : ''}` : ''}\n`,
      );
      process.exitCode = 0;
    });
}
