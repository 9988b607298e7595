// node:test reporter for scripts/run-tests.js: one JSON line per event the runner
// needs (a test began, ended, passed, failed), written to the runner's pipe. The
// runner counts results from these rather than from spec text, and knows which
// test was running when it has to kill a file that hangs.
export default async function* waggleTestEvents(source) {
  for await (const ev of source) {
    const d = ev.data;
    switch (ev.type) {
      case 'test:dequeue':
      case 'test:complete':
        yield `${JSON.stringify({ type: ev.type, name: d.name, nesting: d.nesting })}\n`;
        break;
      case 'test:pass':
      case 'test:fail': {
        const error = d.details?.error;
        yield `${JSON.stringify({
          type: ev.type,
          name: d.name,
          nesting: d.nesting,
          suite: d.details?.type === 'suite',
          skip: d.skip !== undefined && d.skip !== false,
          todo: d.todo !== undefined && d.todo !== false,
          failureType: error?.failureType,
          message: error?.message,
        })}\n`;
        break;
      }
    }
  }
}
