#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/cli to dist/src/cli.
import { main } from '../dist/src/cli/main.js';

// A reader that went away (`zonep2v list ... | head`) ends us like SIGPIPE
// ends a C tool: quietly, status 141, no stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(141);
  throw e;
});
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
