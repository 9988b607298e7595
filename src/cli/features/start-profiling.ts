// The `profiling` feature of `waggle run`: the continuous profiler, its
// flame-graph API for the UI and Go's /debug/pprof/profile on the agent's
// listener. A kernel refusal turns the feature off with its reason.
import type { Discovery } from '../../discovery/index.js';
import { serviceIdentity } from '../../discovery/index.js';
import type { ProcessTable } from '../../process/index.js';
import { ContinuousProfiler, ProfileSampler, PyroscopePusher, toPprofGzip } from '../../profiling/index.js';
import type { SelfMetrics } from '../../export/index.js';
import type { AgentHttpServer } from '../../ui/http-server.js';
import { sendJson } from '../../ui/http-server.js';
import { registerProfilingRoutes } from '../../ui/profiling-api.js';
import type { AgentConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { type FeatureBoard, featureFailureReason } from './status.js';

export const PROFILING_NOT_WANTED = { profiling: 'not asked for (--profile or profiling.enabled turns it on)' } as const;

/** Longest /debug/pprof/profile?seconds=N (Go's net/http/pprof has no cap; a request must end). */
const MAX_PPROF_SECONDS = 300;

export async function startProfilingFeature(
  config: AgentConfig,
  board: FeatureBoard,
  deps: { server: AgentHttpServer; discovery: Discovery; log: Logger; self: SelfMetrics; ui: boolean },
): Promise<{ profiler: ContinuousProfiler; close(): void } | undefined> {
  if (!config.profiling.enabled) return undefined;
  let profiler: ContinuousProfiler;
  try {
    profiler = ContinuousProfiler.start({
      frequency: config.profiling.frequency,
      identify: (pid) => deps.discovery.identity(pid)?.name ?? nameFromProc(deps.discovery.processes, pid),
      processes: deps.discovery.processes,
      onWarning: (m) => deps.log.debug(m),
    });
  } catch (e) {
    board.off('profiling', featureFailureReason(e));
    return undefined;
  }
  board.up('profiling', `${config.profiling.frequency} Hz`);
  if (deps.ui) registerProfilingRoutes(deps.server, profiler);
  const pending = registerPprofRoute(deps.server, profiler);
  registerProfilingMetrics(deps.self, profiler);
  const pusher = startPyroscopePush(config, profiler, deps);
  return {
    profiler,
    close() {
      pusher?.close();
      // A /debug/pprof/profile still waiting ends now: the listener's close waits for it.
      for (const end of pending) end();
      profiler.close();
    },
  };
}

/** `waggle doctor`: loads and attaches the sampler (sampling no process), then closes it. */
export function probeProfilingFeature(board: FeatureBoard): void {
  try {
    ProfileSampler.start({ frequency: 19, pids: [] }).close();
    board.up('profiling', 'turned on by --profile');
  } catch (e) {
    board.off('profiling', featureFailureReason(e));
  }
}

/** `profiling.pyroscope.url`: one gzipped pprof per service per interval to Pyroscope's /ingest. */
function startPyroscopePush(config: AgentConfig, profiler: ContinuousProfiler, deps: { log: Logger; self: SelfMetrics }): PyroscopePusher | undefined {
  const p = config.profiling.pyroscope;
  if (p.url === undefined) return undefined;
  const pusher = PyroscopePusher.start(profiler, {
    url: p.url,
    intervalMs: p.push_interval_ms,
    timeoutMs: p.timeout_ms,
    queueSize: p.queue_size,
    maxRetries: p.max_retries,
    labels: p.labels,
    ...(p.basic_auth_username !== undefined && p.basic_auth_password !== undefined ? { basicAuth: { username: p.basic_auth_username, password: p.basic_auth_password } } : {}),
    ...(p.tenant_id !== undefined ? { tenantId: p.tenant_id } : {}),
    onWarning: (m) => deps.log.warn(m),
  });
  deps.self.registerExporter('pyroscope', pusher);
  deps.self.counter('profiling_pyroscope_retries_total', 'Pushes to Pyroscope tried again after a failure.', () => pusher.stats().retries);
  deps.self.gauge('profiling_pyroscope_queued', 'Profiles waiting to be pushed to Pyroscope.', () => pusher.stats().queued);
  deps.log.info(`pushing CPU profiles to ${p.url} every ${p.push_interval_ms / 1000} s`);
  return pusher;
}

function nameFromProc(processes: ProcessTable, pid: number): string | undefined {
  const info = processes.info(pid);
  return info ? serviceIdentity(info).name : undefined;
}

/**
 * GET /debug/pprof/profile?seconds=N[&service=S|&pid=P]: the next N seconds as
 * gzipped pprof, like Go's. Returns the set of requests still waiting (each
 * entry answers 503 and forgets its timer).
 */
function registerPprofRoute(server: AgentHttpServer, profiler: ContinuousProfiler): Set<() => void> {
  const pending = new Set<() => void>();
  server.route('GET', '/debug/pprof/profile', (req, res, url) => {
    const raw = url.searchParams.get('seconds') ?? '30';
    const seconds = Number(raw);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_PPROF_SECONDS) {
      return sendJson(res, 400, { error: `query parameter "seconds": expected a number from 0 to ${MAX_PPROF_SECONDS}, got "${raw.slice(0, 40)}"`, param: 'seconds' });
    }
    const service = url.searchParams.get('service') ?? undefined;
    const pidRaw = url.searchParams.get('pid');
    const pid = pidRaw === null ? undefined : Number(pidRaw);
    if (pid !== undefined && (!Number.isInteger(pid) || pid <= 0)) return sendJson(res, 400, { error: `query parameter "pid": expected a process id, got "${pidRaw!.slice(0, 40)}"`, param: 'pid' });
    profiler.drain(); // so that the profile starts now, not at the last periodic drain
    const from = Date.now();
    const timer = setTimeout(() => {
      req.off('close', cancel);
      pending.delete(stop);
      profiler.drain(); // the window ends now, not at the next periodic drain
      const profile = profiler.query({ from, to: Date.now(), ...(service ? { service } : {}), ...(pid ? { pid } : {}) });
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment; filename="profile.pb.gz"' });
      res.end(toPprofGzip(profile));
    }, seconds * 1000);
    const cancel = () => {
      clearTimeout(timer);
      pending.delete(stop);
    };
    const stop = () => {
      cancel();
      sendJson(res, 503, { error: 'the agent is stopping' });
    };
    pending.add(stop);
    req.once('close', cancel);
  });
  return pending;
}

function registerProfilingMetrics(self: SelfMetrics, profiler: ContinuousProfiler): void {
  let cached: { at: number; stats: ReturnType<ContinuousProfiler['stats']> } | undefined;
  const stats = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 500) cached = { at: now, stats: profiler.stats() };
    return cached.stats;
  };
  self.counter('profiling_samples_total', 'CPU samples taken (processes but the agent).', () => stats().sampler.samples);
  self.counter('profiling_kernel_stacks_lost_total', 'Samples whose kernel stack could not be recorded.', () => stats().sampler.kernelStacksLost);
  self.counter('profiling_user_stacks_truncated_total', 'User stacks deeper than the kernel walks (127 frames).', () => stats().sampler.userTruncated);
  self.counter('profiling_user_stacks_lost_total', 'Samples whose user stack was evicted before user space read it.', () => stats().sampler.userStacksLost);
  self.counter('profiling_counts_full_total', 'Samples lost because the kernel count map was full.', () => stats().sampler.countsFull);
  self.counter('profiling_stack_reads_failed_total', 'Stack walks stopped by unreadable user memory.', () => stats().sampler.readFailed);
  self.counter('profiling_unnamed_frames_total', 'Frames shown as module+offset.', () => stats().symbols.unnamedFrames);
  self.counter('profiling_processes_dropped_samples_total', 'Samples dropped because a window held too many processes.', () => stats().droppedParts);
  self.gauge('profiling_unwind_rows', 'Rows of .eh_frame unwind tables loaded in the kernel.', () => stats().tables?.rows ?? 0);
  self.counter('profiling_unwind_files_over_capacity_total', 'Executables left to frame pointers because the unwind rows were full.', () => stats().tables?.filesOverCapacity ?? 0);
}
