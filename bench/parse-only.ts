// Parse-only throughput, in a process of its own (so its peak RSS is the
// parser's): no disk writes.
//
//   node dist/bench/parse-only.js parse FILE    openArchive over the file: decode,
//                                               detect, parse, every body drained
//   node dist/bench/parse-only.js decode FILE   decodeStream only, output drained
//
// Prints one JSON line: mode, bytes read from the file, decoded bytes (what
// the parser saw), entries, body bytes, milliseconds, MB/s of decoded bytes,
// the format found and the peak RSS (process.resourceUsage().maxRSS, KiB).

import { openArchive } from '../src/formats/index.js';
import { decodeStream } from '../src/decode/index.js';
import type { ArchiveInfo } from '../src/formats/types.js';
import { enableYoungCollection } from '../src/source/young-gc.js';
import { openFile } from '../src/source/input.js';

const [mode, file] = process.argv.slice(2);
if ((mode !== 'parse' && mode !== 'decode') || !file) {
  process.stderr.write('usage: parse-only.js parse|decode FILE\n');
  process.exit(2);
}

let inBytes = 0;
/** The file read as the CLI reads it (src/source/input.ts), counted. */
async function* source(): AsyncGenerator<Buffer> {
  for await (const c of openFile(file!).data) {
    inBytes += c.length;
    yield c;
  }
}

/** Counts the bytes the parser reads (after decoding). */
async function* counted(src: AsyncIterable<Buffer>, n: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const c of src) {
    n.bytes += c.length;
    yield c;
  }
}

// As the CLI does (young-gc.ts): the same engine, measured the same way.
enableYoungCollection();
const t0 = process.hrtime.bigint();
let entries = 0;
let bodyBytes = 0;
const decoded = { bytes: 0 };
const info: ArchiveInfo = { compression: [] };
if (mode === 'parse') {
  for await (const e of openArchive(source(), { info })) {
    entries++;
    // As the sink takes a body: at once when it is buffered, else chunk by chunk.
    const body = e.body();
    const whole = body.takeNow?.();
    if (whole !== undefined) bodyBytes += whole.length;
    else for await (const c of body) bodyBytes += c.length;
  }
  // openArchive reads the decoded stream itself; for uncompressed input it is the file.
  decoded.bytes = info.compression.length ? NaN : inBytes;
} else {
  const d = await decodeStream(source());
  info.compression.push(...d.layers);
  for await (const c of counted(d.data, decoded)) void c;
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const basis = Number.isFinite(decoded.bytes) ? decoded.bytes : inBytes;
process.stdout.write(
  `${JSON.stringify({
    mode,
    file,
    inBytes,
    decodedBytes: Number.isFinite(decoded.bytes) ? decoded.bytes : null,
    entries,
    bodyBytes,
    ms: Math.round(ms * 10) / 10,
    mbPerSec: Math.round((basis / 1e6 / (ms / 1000)) * 10) / 10,
    format: [info.flar ? 'flar' : '', info.format ?? '', ...info.compression].filter(Boolean).join('+'),
    maxRssKiB: process.resourceUsage().maxRSS,
  })}\n`,
);
