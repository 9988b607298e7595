#!/usr/bin/env node
// Entry point of the `waggle` command; the CLI itself is compiled TypeScript.
import('../dist/src/cli/main.js').then((m) => m.main(process.argv)).catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
