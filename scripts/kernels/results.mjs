// The guest's JSON lines (ttyS1) → one kernel's result. A check that never
// reported (the VM timed out, the guest crashed) is a failure that names how
// the VM ended and where its console stopped.

/** @typedef {{ ok: boolean, status: 'ok' | 'off' | 'fail', reason?: string }} Feature */

const consoleTail = (text, n = 8) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');

/** Merges a VM run's result lines into {passed, features, timings}. */
export function kernelResult(vm, expectedChecks) {
  /** @type {Record<string, Feature>} */
  const features = {};
  const checkMs = {};
  let start;
  let done;
  for (const line of vm.results) {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      continue; // a line cut by the power-off
    }
    if (msg.type === 'start') start = msg;
    else if (msg.type === 'done') done = msg;
    else if (msg.type === 'check') {
      checkMs[msg.check] = msg.ms;
      Object.assign(features, msg.features);
    }
  }
  const ended = vm.exit === 'poweroff' ? 'the guest powered off' : vm.error;
  if (!start) features.boot = { ok: false, status: 'fail', reason: `the guest never ran its checks (${ended}); console: ${consoleTail(vm.console)}` };
  else {
    features.boot = { ok: true, status: 'ok' };
    for (const c of expectedChecks) {
      if (!(c in checkMs)) features[`check:${c}`] = { ok: false, status: 'fail', reason: `did not report (${ended}); console: ${consoleTail(vm.console, 4)}` };
    }
  }
  const passed = Boolean(done) && Object.values(features).every((f) => f.status !== 'fail');
  // Boot: from qemu's start to the guest runner's first line, i.e. VM time minus the checks' own time.
  const timings = { vmMs: vm.ms, checksMs: done?.ms, bootMs: done ? vm.ms - done.ms : undefined, perCheckMs: checkMs };
  return { passed, guestKernel: start?.kernel, features, timings };
}
