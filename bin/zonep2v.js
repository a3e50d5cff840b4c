#!/usr/bin/env -S node --max-semi-space-size=1
// Thin launcher: the CLI is compiled from src/cli to dist/src/cli.
import v8 from 'node:v8';

// Keep V8's young generation small. Left to grow, it alone raised peak RSS
// from 75 to 116 MiB over a long stream (an 8 GiB archive) while the live
// heap stayed near 10 MiB, and to 155 MiB on the bench's ufsdump; at 1 MiB
// semi-spaces the speed is the same. The shebang's flag is the one that
// holds (V8 reads it when the heap is set up; the bench runs node with the
// shebang's flags too); when started as `node bin/zonep2v.js`, the runtime
// flag below at least stops the growth factor.
v8.setFlagsFromString('--semi-space-growth-factor=1');

// A reader that went away (`zonep2v list ... | head`) ends us like SIGPIPE
// ends a C tool: quietly, status 141, no stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(141);
  throw e;
});
const { main } = await import('../dist/src/cli/main.js');
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
