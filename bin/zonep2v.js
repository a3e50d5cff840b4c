#!/usr/bin/env -S MALLOC_ARENA_MAX=1 node --max-semi-space-size=1 --initial-heap-size=4 --no-turbo-inlining
// Thin launcher: the CLI is compiled from src/cli to dist/src/cli and
// bundled into one CommonJS file (scripts/bundle.mjs). This file is CommonJS
// too (bin/package.json): see the loading note at the end.
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');

// V8 flags for constant memory, measured on the bench (bench/README.md):
// - a small young generation: left to grow, it alone raised peak RSS from 75
//   to 116 MiB over a long stream (8 GiB) while the live heap stayed near
//   10 MiB, and to 155 MiB on the bench's ufsdump; same speed at 1 MiB;
// - a small initial heap: with V8's default the old generation filled with
//   promoted garbage for the whole run (one full collection in 8 GiB, heap
//   10 -> 18 MiB); started at 4 MiB, collections follow the live size and an
//   8 GiB stream peaks at 83 instead of 90 MiB;
// - one malloc arena (MALLOC_ARENA_MAX, read by glibc only at process start,
//   hence set here): V8's helper threads and the file-writing thread each
//   filled an arena of their own that kept creeping over a long stream; with
//   one, peak RSS on the bench's cpio fell from 93-98 to 87 MiB and a 2 GiB
//   stream's from 83-87 to 80-82 MiB, at the same speed;
// - no inlining in the optimizing compiler: the work here is system calls and
//   short functions, and compiling with inlining kept the compiler threads
//   busy for 0.3 s of CPU per bench run on a 2-core machine the extraction
//   needs whole; without it user CPU fell 5-10 % on every format (cpio
//   0.87 -> 0.80 s, .Z 3.2 -> 2.95 s, install 0.78 -> 0.72 s) and wall time
//   3-5 %;
// - not --single-threaded: it saves 5-10 MiB on long streams (the compiler
//   thread's malloc arena), but compiling on this thread made parsing 50%
//   slower (cpio parse-only 0.29 -> 0.43 s).
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
// The CLI is loaded from the bundle: Node 20 loads ES modules through an
// asynchronous loader that resolves, reads and links each of a command's ~40
// modules in turn, and a CommonJS file needs none of it (3 000-file cpio:
// 0.27 s from the modules, 0.24 s split into ES chunks, 0.22 s as one
// CommonJS file; medians of 15 alternated runs). The compiled modules are
// used when they are newer than the bundle (tsc run without the bundle step).
const mtime = (rel) => {
  try {
    return fs.statSync(path.join(__dirname, rel)).mtimeMs;
  } catch {
    return -1;
  }
};
const BUNDLE = '../dist/src/bundle/zonep2v.cjs';
const MODULES = '../dist/src/cli/main.js';
const load = mtime(BUNDLE) >= mtime(MODULES) ? Promise.resolve(require(BUNDLE)) : import(MODULES);
load.then(({ main }) => main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
