// Child process for test/dump-memory.test.ts and the bench: parse a
// synthetic dump of `dirs` x `perDir` files, read every body, sample the
// resident set as entries go by, print one JSON line. Run without tap's
// loaders and coverage so the number is the parser's own.
//
//   node dist/test/lib/dump-mem-child.js [dirs] [perDir]

import { ByteReader } from '../../src/source/reader.js';
import { parseDump } from '../../src/formats/dump.js';
import { makeContext } from '../../src/formats/types.js';
import { synthDump, chunked, bigTreeSpec } from './dump-synth.js';

const dirs = Number(process.argv[2] ?? 1000);
const perDir = Number(process.argv[3] ?? 200);
const spec = bigTreeSpec({ dirs, perDir, dataEvery: 10, dataBytes: 100 });
const ctx = makeContext({});
const start = process.memoryUsage().rss;
let peak = start;
let files = 0;
let dirsSeen = 0;
let bytes = 0;
let last = '';
for await (const e of parseDump(new ByteReader(chunked(synthDump(spec))), ctx)) {
  if (e.type === 'dir') dirsSeen++;
  else files++;
  for await (const c of e.body()) bytes += c.length;
  if ((files + dirsSeen) % 500 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  last = e.path;
}
peak = Math.max(peak, process.memoryUsage().rss);
process.stdout.write(`${JSON.stringify({ dirs: dirsSeen, files, bytes, last, startRss: start, peakRss: peak })}\n`);
