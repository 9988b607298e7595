// The slot for CPU profiles (flame graphs), filled by the profiling work.
import { Empty, PageHeader } from '../components/layout.js';

export function ProfilingPage({ enabled }: { enabled: boolean }) {
  return (
    <>
      <PageHeader title="Profiling" subtitle="CPU profiles of watched processes, as flame graphs." />
      <Empty title={enabled ? 'No profiles yet' : 'CPU profiling is not running'}>
        <p>When profiling runs, sampled stacks of every watched process appear here as flame graphs, with pprof download.</p>
      </Empty>
    </>
  );
}
