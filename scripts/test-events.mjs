// node:test reporter for scripts/run-tests.js: one JSON line per event the runner
// needs (a test began, ended, passed, failed), appended to the file named by
// TEST_EVENTS_FILE. The runner counts results from these rather than from spec
// text, and knows which test was running when it has to kill a file that hangs.
// Written synchronously: with --test-force-exit the process exits as soon as the
// last test ends, and a stream's buffered tail would be lost.
import { openSync, writeSync } from 'node:fs';

const fd = openSync(process.env.TEST_EVENTS_FILE ?? '/dev/null', 'a');

export default async function* waggleTestEvents(source) {
  for await (const ev of source) {
    const d = ev.data;
    let line;
    switch (ev.type) {
      case 'test:dequeue':
      case 'test:complete':
        line = { type: ev.type, name: d.name, nesting: d.nesting };
        break;
      case 'test:pass':
      case 'test:fail': {
        const error = d.details?.error;
        line = {
          type: ev.type,
          name: d.name,
          nesting: d.nesting,
          suite: d.details?.type === 'suite',
          skip: d.skip !== undefined && d.skip !== false,
          todo: d.todo !== undefined && d.todo !== false,
          failureType: error?.failureType,
          message: error?.message,
        };
        break;
      }
      default:
        continue;
    }
    writeSync(fd, `${JSON.stringify(line)}\n`);
  }
}
