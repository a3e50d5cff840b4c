// node:child_process, loaded the first time a process is run: importing it
// loads net, dgram and the stream machinery, 4 ms of every start-up, while
// most runs (an uncompressed archive from a file) start no process at all.

import { createRequire } from 'node:module';

let mod: typeof import('node:child_process') | undefined;

export function childProcess(): typeof import('node:child_process') {
  return (mod ??= createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process'));
}
