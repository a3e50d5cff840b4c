#!/usr/bin/env -S node --max-semi-space-size=1 --single-threaded
// Thin launcher: the CLI is compiled from src/cli to dist/src/cli.
import v8 from 'node:v8';

// V8 flags for constant memory, measured on the bench (bench/README.md):
// - a small young generation: left to grow, it alone raised peak RSS from 75
//   to 116 MiB over a long stream (8 GiB) while the live heap stayed near
//   10 MiB, and to 155 MiB on the bench's ufsdump; same speed at 1 MiB;
// - --single-threaded: no V8 helper threads (GC, compiler), whose malloc
//   arenas kept growing: 5-10 MiB less peak RSS from 1 GiB streams up (2 GiB:
//   78 vs 84 MiB), same stream speed, about 2% slower on the bench's cpio.
// The shebang's flags are the ones that hold (V8 reads them when it starts;
// the bench and bulk run node with them too); started as `node
// bin/zonep2v.js`, the runtime flag below at least stops the growth factor.
v8.setFlagsFromString('--semi-space-growth-factor=1');

// A reader that went away (`zonep2v list ... | head`) ends us like SIGPIPE
// ends a C tool: quietly, status 141, no stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(141);
  throw e;
});
const { main } = await import('../dist/src/cli/main.js');
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
