// Our compress (.Z) decoder against ncompress's `compress`/`uncompress`:
// every code width, random and compressible data, streams with many CLEAR
// codes, input split at awkward boundaries, the conformance .Z files, and
// corrupt or cut streams.

import { CONFORMANCE_DIR } from './lib/conformance.js';
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_WINDOW, LzwDecoder, unlzw, isCompressHeader, type LzwWindow } from '../src/decode/lzw.js';
import { decodeWith, lzwWhere } from '../src/decode/index.js';
import { INLINE_MAX } from '../src/decode/lzw-thread.js';
import { BIN_NODE_FLAGS } from '../bench/util.js';
import { ArchiveError, TruncatedError } from '../src/errors.js';
import { LZW_WASM_BASE64 } from '../src/decode/lzw-wasm.js';
import { IN_MAX } from '../src/decode/lzw-inner.js';
import { pathToFileURL } from 'node:url';
import { lzwCompress } from './hostile/gen/compress.js';
import { prng } from './lib/prng.js';

const CONFORMANCE = CONFORMANCE_DIR;

function compress(data: Buffer, bits: number): Buffer {
  return execFileSync('compress', ['-f', `-b${bits}`, '-c'], { input: data, maxBuffer: 1 << 28 });
}

/** `uncompress -c`: its output and whether it exited 0. */
function uncompress(z: Buffer): { out: Buffer; ok: boolean } {
  const r = spawnSync('uncompress', ['-c'], { input: z, maxBuffer: 1 << 28 });
  return { out: r.stdout, ok: r.status === 0 };
}

/** Deterministic pseudo-random bytes (a seeded xorshift), so failures reproduce. */
function randomBytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function text(n: number): Buffer {
  const lines: string[] = [];
  let len = 0;
  for (let i = 0; len < n; i++) {
    const l = `${i}\t/usr/lib/sparcv9/lib${i % 97}.so.1 file ${(i * 7919) % 10007} owner=root group=bin mode=0755\n`;
    lines.push(l);
    len += l.length;
  }
  return Buffer.from(lines.join('')).subarray(0, n);
}

/** Alternating random and text blocks: compress's ratio check fires, so the stream holds CLEAR codes. */
function mixed(n: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0, len = 0; len < n; i++) {
    const p = i % 2 ? randomBytes(48 * 1024, i) : text(48 * 1024);
    parts.push(p);
    len += p.length;
  }
  return Buffer.concat(parts).subarray(0, n);
}

/** Split `b` into chunks of the given sizes, cycling. */
function* chunks(b: Buffer, sizes: number[]): Generator<Buffer> {
  let i = 0;
  for (let off = 0; off < b.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield b.subarray(off, off + n);
    off += n;
  }
}

async function* toAsync(it: Iterable<Buffer>): AsyncGenerator<Buffer> {
  for (const c of it) yield c;
}

async function collect(src: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of src) out.push(c);
  return Buffer.concat(out);
}

/** Decode synchronously with the core decoder; returns output and CLEAR count. */
function decodeSync(z: Buffer, sizes: number[] = [z.length || 1], window?: LzwWindow, loop: 'wasm' | 'js' = 'wasm'): { out: Buffer; clears: number } {
  const d = new LzwDecoder(window, loop);
  const out: Buffer[] = [];
  for (const c of chunks(z, sizes)) {
    let ip = 0;
    while (ip < c.length) {
      ip = d.run(c, ip);
      if (d.full) out.push(d.take());
    }
    if (d.pending > 4096) out.push(d.take());
  }
  d.finish();
  out.push(d.take());
  return { out: Buffer.concat(out), clears: d.clears };
}

const RANDOM_CHUNKS = [1, 7, 3, 2, 5, 1, 6, 4, 7];

/** Slides after every megabyte of output, keeping 512 KiB: strings leave it early. */
const SMALL_WINDOW: LzwWindow = { area: 2 * 1024 * 1024, keep: 512 * 1024 };

t.test('every code width, random and text, several sizes', async (t) => {
  const inputs: Record<string, Buffer> = {
    'empty': Buffer.alloc(0),
    'one byte': Buffer.from('x'),
    'random 300K': randomBytes(300 * 1024, 7),
    'text 600K': text(600 * 1024),
    'mixed 1.5M': mixed(1536 * 1024),
  };
  for (const bits of [10, 11, 12, 13, 14, 15, 16]) {
    for (const [name, data] of Object.entries(inputs)) {
      const z = compress(data, bits);
      const ref = uncompress(z);
      t.ok(ref.ok, `uncompress reads -b${bits} ${name}`);
      t.ok(ref.out.equals(data), `uncompress round trip -b${bits} ${name}`);
      const whole = await collect(unlzw(toAsync([z])));
      t.ok(whole.equals(ref.out), `-b${bits} ${name}: same bytes as uncompress (${whole.length})`);
      // Awkward splits: 1..7-byte chunks, and 1-byte chunks for the smaller inputs.
      const split = decodeSync(z, RANDOM_CHUNKS).out;
      t.ok(split.equals(ref.out), `-b${bits} ${name}: same bytes with 1..7-byte chunks`);
      // (1-byte chunks through the core decoder: tap's async hooks make
      // hundreds of thousands of awaits slow; the async wrapper gets 1-byte
      // chunks on the conformance files.)
      if (bits === 10 || bits === 13 || bits === 16) {
        t.ok(decodeSync(z, [1]).out.equals(ref.out), `-b${bits} ${name}: same bytes with 1-byte chunks`);
      }
    }
  }
});

t.test('-b9: table-full streams are refused as uncompress refuses them, small ones decode', async (t) => {
  // Debian ncompress writes -b9 streams that neither its uncompress nor gzip
  // can read once the 9-bit table is full (reference/formats.md 5.3).
  const small = randomBytes(200, 3);
  const zs = compress(small, 9);
  t.ok(uncompress(zs).ok);
  t.ok((await collect(unlzw(toAsync([zs])))).equals(small), 'small -b9 stream decodes');
  const big = text(100 * 1024);
  const zb = compress(big, 9);
  const ref = uncompress(zb);
  t.notOk(ref.ok, 'uncompress refuses the table-full -b9 stream');
  await t.rejects(collect(unlzw(toAsync([zb]))), ArchiveError, 'we refuse it too');
});

t.test('streams crossing many CLEAR codes', async (t) => {
  const data = mixed(3 * 1024 * 1024);
  for (const bits of [12, 16]) {
    const z = compress(data, bits);
    const ref = uncompress(z);
    t.ok(ref.ok && ref.out.equals(data));
    const { out, clears } = decodeSync(z);
    t.ok(clears >= 10, `-b${bits}: ${clears} CLEAR codes`);
    t.ok(out.equals(ref.out), `-b${bits}: same bytes as uncompress across the CLEARs`);
    t.ok(decodeSync(z, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]).out.equals(ref.out), `-b${bits}: same with odd chunking`);
    t.ok(decodeSync(z, [4093], SMALL_WINDOW).out.equals(ref.out), `-b${bits}: same with a window sliding every megabyte`);
  }
});

t.test('position rebasing (normally every GiB) keeps the output right', async (t) => {
  const saved = LzwDecoder.rebaseAt;
  t.teardown(() => {
    LzwDecoder.rebaseAt = saved;
  });
  LzwDecoder.rebaseAt = 1536 * 1024;
  const data = Buffer.concat([text(2 * 1024 * 1024), mixed(2 * 1024 * 1024), text(2 * 1024 * 1024)]);
  const z = compress(data, 16);
  t.ok(decodeSync(z, [65536], SMALL_WINDOW).out.equals(data), 'same bytes across rebases');
});

t.test('a bomb is decoded in bounded pieces', async (t) => {
  // 64 MiB of zeros: each code expands to a longer run; one input chunk
  // must still come out in buffers of bounded size.
  const z = compress(Buffer.alloc(64 * 1024 * 1024), 16);
  let max = 0;
  let total = 0;
  for await (const c of unlzw(toAsync([z]))) {
    max = Math.max(max, c.length);
    total += c.length;
  }
  t.equal(total, 64 * 1024 * 1024);
  t.ok(max <= 1024 * 1024, `largest output chunk ${max} bytes`);
});

t.test('conformance .Z files decode like uncompress -c', async (t) => {
  const files = fs.readdirSync(CONFORMANCE).filter((f) => f.endsWith('.Z'));
  t.ok(files.length >= 5, `${files.length} files`);
  for (const f of files) {
    const z = fs.readFileSync(path.join(CONFORMANCE, f));
    const ref = uncompress(z);
    t.ok(ref.ok, `uncompress reads ${f}`);
    t.ok((await collect(unlzw(toAsync([z])))).equals(ref.out), `${f}: ${ref.out.length} bytes, same as uncompress`);
    t.ok((await collect(unlzw(toAsync(chunks(z, [1]))))).equals(ref.out), `${f}: same with 1-byte chunks`);
    t.ok((await collect(decodeWith('compress', toAsync([z])))).equals(ref.out), `${f}: same through decodeWith`);
  }
});

t.test('header checks', async (t) => {
  t.ok(isCompressHeader(Buffer.from([0x1f, 0x9d, 0x90])));
  t.ok(isCompressHeader(Buffer.from([0x1f, 0x9d, 0x0c])), 'no block mode is still compress');
  t.notOk(isCompressHeader(Buffer.from([0x1f, 0x9d, 0x91])), '17 bits');
  t.notOk(isCompressHeader(Buffer.from([0x1f, 0x9d, 0x88])), '8 bits');
  t.notOk(isCompressHeader(Buffer.from([0x1f, 0x9d, 0xf0])), 'reserved bits');
  t.notOk(isCompressHeader(Buffer.from([0x1f, 0x9d])), 'too short');

  for (const [name, bytes, re] of [
    ['empty input', [], /header cut short: 0 of 3/],
    ['two bytes', [0x1f, 0x9d], /header cut short: 2 of 3/],
    ['bad magic', [0x1f, 0x8b, 0x90, 0x41], /no 1F 9D magic/],
    ['17-bit codes', [0x1f, 0x9d, 0x91, 0x41], /maximum code width 17/],
    ['reserved flags', [0x1f, 0x9d, 0xf0, 0x41], /reserved flag bits/],
  ] as const) {
    const err = await collect(unlzw(toAsync([Buffer.from(bytes)]))).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(err instanceof ArchiveError, `${name}: ArchiveError`);
    t.match((err as ArchiveError).message, re, `${name}: ${(err as Error).message}`);
    t.type((err as ArchiveError).offset, 'number', `${name}: names an offset`);
  }
});

/** Pack 9-bit codes LSB first after a block-mode 16-bit header. */
function pack9(codes: number[]): Buffer {
  const out = [0x1f, 0x9d, 0x90];
  let acc = 0;
  let n = 0;
  for (const c of codes) {
    acc |= c << n;
    n += 9;
    while (n >= 8) {
      out.push(acc & 0xff);
      acc >>>= 8;
      n -= 8;
    }
  }
  if (n > 0) out.push(acc & 0xff);
  return Buffer.from(out);
}

t.test('bad codes', async (t) => {
  // A valid hand-made stream first: A, B, 257 = "AB", then 259, the KwKwK
  // case (the code being defined: "AB" + "A"), so "ABABABA".
  const good = pack9([65, 66, 257, 259]);
  const ref = uncompress(good);
  t.ok(ref.ok, 'uncompress reads the hand-made stream');
  t.equal(ref.out.toString(), 'ABABABA');
  t.equal((await collect(unlzw(toAsync([good])))).toString(), 'ABABABA', 'hand-made stream with KwKwK');

  const cases: [string, number[], RegExp][] = [
    ['code beyond the next free code', [65, 66, 300], /bad code 300 \(next free code is 258/],
    ['KwKwK as the first code', [257], /bad code 257|first code/],
    ['a CLEAR as the first code', [256, 65], /starts with a CLEAR/],
  ];
  for (const [name, codes, re] of cases) {
    const z = pack9(codes);
    t.notOk(uncompress(z).ok, `${name}: uncompress refuses it too`);
    const err = await collect(unlzw(toAsync([z]))).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(err instanceof ArchiveError && err.kind === 'decompress', `${name}: ArchiveError decompress`);
    t.match((err as Error).message, re, (err as Error).message);
    t.match((err as Error).message, /at compressed byte \d+/, 'names the compressed byte');
  }
});

t.test('a cut stream is an error when the cut is visible', async (t) => {
  // With 16-bit codes every code is two bytes: an odd cut leaves 8 bits of a code.
  const data = randomBytes(400 * 1024, 11);
  const z = compress(data, 16);
  for (const cut of [1, 3, 101]) {
    const err = await collect(unlzw(toAsync([z.subarray(0, z.length - cut)]))).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(err instanceof TruncatedError, `cut ${cut} bytes: TruncatedError`);
    t.match((err as Error).message, /cut in the middle of a code/);
  }
  // A cut inside a group's padding (right after a width change) is seen too.
  const zt = compress(text(200 * 1024), 16);
  let caught = 0;
  for (let cut = 1; cut <= 40; cut++) {
    const r = await collect(unlzw(toAsync([zt.subarray(0, zt.length - cut)]))).then(
      () => 'ok',
      (e: unknown) => (e instanceof TruncatedError ? 'cut' : 'other'),
    );
    if (r === 'other') t.fail(`cut ${cut}: unexpected error`);
    if (r === 'cut') caught++;
  }
  t.ok(caught >= 15, `${caught} of 40 cuts detected`);
});

t.test('NUL padding after the stream (tape or dd blocks) is read past, as uncompress does', async (t) => {
  // Small inputs end at 9..11-bit codes, where the padding's zero codes also
  // grow the table and make the decoder skip groups; the large one at 16.
  const inputs: [string, Buffer][] = [
    ['3000 bytes of text', text(3000)],
    ['40000 random bytes', randomBytes(40000, 5)],
    ['400 KiB mixed', mixed(400 * 1024)],
  ];
  for (const [name, data] of inputs) {
    const z = compress(data, 16);
    for (let pad = 1; pad <= 40; pad++) {
      const padded = Buffer.concat([z, Buffer.alloc(pad)]);
      const ref = uncompress(padded);
      if (!ref.ok) continue;
      const got = await collect(unlzw(toAsync(chunks(padded, [4096, 1, 7])))).catch((e: unknown) => e);
      if (!Buffer.isBuffer(got)) {
        t.fail(`${name} + ${pad} NUL bytes: ${String(got)}`);
        continue;
      }
      t.ok(got.equals(ref.out), `${name} + ${pad} NUL bytes: as uncompress`);
    }
  }
  // Non-zero bytes after the end are still a cut.
  const z = compress(randomBytes(40000, 5), 16);
  const err = await collect(unlzw(toAsync([Buffer.concat([z, Buffer.from([0x5a])])]))).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof TruncatedError, 'one 0x5a byte after the end: TruncatedError');
});

t.test('decoded bytes are not decoded ahead of the consumer', async (t) => {
  const data = text(8 * 1024 * 1024);
  const z = compress(data, 16);
  let pulled = 0;
  async function* src(): AsyncGenerator<Buffer> {
    for (const c of chunks(z, [64 * 1024])) {
      pulled += c.length;
      yield c;
    }
  }
  const it = unlzw(src())[Symbol.asyncIterator]();
  const first = await it.next();
  t.notOk(first.done);
  t.ok(pulled < z.length / 4, `pulled ${pulled} of ${z.length} compressed bytes for the first chunk`);
  await it.return(undefined);
  t.ok(pulled < z.length / 4, 'nothing more after return()');
});

// Keep the generated-data helpers honest.
t.test('helpers', async (t) => {
  t.not(crypto.createHash('md5').update(randomBytes(1000, 1)).digest('hex'), crypto.createHash('md5').update(randomBytes(1000, 2)).digest('hex'));
  t.equal(mixed(100000).length, 100000);
});

// The worker-thread path (inputs over INLINE_MAX): same bytes, same errors,
// bounded read-ahead, and the thread goes away when the consumer stops.
const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;

async function* sized(b: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  yield* chunks(b, sizes);
}

t.test('worker thread: same bytes as inline and as uncompress', async (t) => {
  t.ok(INLINE_MAX < 2 * 1024 * 1024);
  const data = mixed(4 * 1024 * 1024);
  for (const bits of [12, 16]) {
    const z = compress(data, bits);
    t.ok(z.length > INLINE_MAX, `-b${bits}: ${z.length} compressed bytes, over INLINE_MAX`);
    const w = await collect(decodeWith('compress', sized(z, [65536, 1, 7, 4093, 200000]), { lzw: 'worker' }));
    t.ok(w.equals(data), `-b${bits}: worker output is the original`);
    const i = await collect(decodeWith('compress', sized(z, [65536]), { lzw: 'inline' }));
    t.ok(i.equals(data), `-b${bits}: inline output is the original`);
  }
});

t.test('worker thread: errors keep their class, kind and offset', async (t) => {
  const z = compress(randomBytes(3 * 1024 * 1024, 5), 16);
  const cut = await collect(decodeWith('compress', sized(z.subarray(0, z.length - 1), [65536]), { lzw: 'worker' })).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(cut instanceof TruncatedError, 'a cut stream: TruncatedError from the thread');
  t.equal((cut as ArchiveError).kind, 'truncated');
  t.ok(((cut as ArchiveError).offset ?? 0) > 3 * 1024 * 1024 - 70000, `offset ${(cut as ArchiveError).offset} is near the end`);
  t.match((cut as Error).message, /cut in the middle of a code/);

  const bad = Buffer.from(z);
  bad[2] = 0xf0;
  const flags = await collect(decodeWith('compress', sized(bad, [65536]), { lzw: 'worker' })).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(flags instanceof ArchiveError && flags.kind === 'decompress', 'bad flags: ArchiveError decompress');
  t.match((flags as Error).message, /reserved flag bits/);
  t.match((flags as ArchiveError).hint, /uncompress/);
});

t.test('worker thread: stop, abort and a failing source end the thread', async (t) => {
  const z = compress(randomBytes(6 * 1024 * 1024, 9), 16);
  t.ok(z.length > 4 * INLINE_MAX, `${z.length} compressed bytes`);
  const before = ports();
  let pulled = 0;
  async function* counting(): AsyncGenerator<Buffer> {
    for (const c of chunks(z, [65536])) {
      pulled += c.length;
      yield c;
    }
  }
  const it = decodeWith('compress', counting(), { lzw: 'worker' })[Symbol.asyncIterator]();
  t.notOk((await it.next()).done);
  t.equal(ports(), before + 1, 'a thread runs');
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(pulled < INLINE_MAX + 8 * 65536, `read ahead bounded: ${pulled} of ${z.length} bytes pulled`);
  await it.return!();
  t.equal(ports(), before, 'return() ends the thread');

  const ac = new AbortController();
  const reason = new Error('stop now');
  const it2 = decodeWith('compress', sized(z, [65536]), { signal: ac.signal, lzw: 'worker' })[Symbol.asyncIterator]();
  await it2.next();
  ac.abort(reason);
  await t.rejects(it2.next(), reason, 'abort rejects with the reason');
  t.equal(ports(), before, 'abort ends the thread');

  const boom = new Error('disk read error');
  async function* failing(): AsyncGenerator<Buffer> {
    yield* chunks(z.subarray(0, 2 * INLINE_MAX), [65536]);
    throw boom;
  }
  await t.rejects(collect(decodeWith('compress', failing(), { lzw: 'worker' })), boom, 'the source error comes through');
  t.equal(ports(), before, 'and the thread is gone');
});

t.test('every maxbits 9..16 on small edge cases, as uncompress reads them', async (t) => {
  // Small enough that the 9-bit table never fills (so -b9 is readable too).
  const inputs: Record<string, Buffer> = {
    'empty': Buffer.alloc(0),
    'one byte': Buffer.from([0xff]),
    'KwKwK run': Buffer.alloc(200, 0x61),
    'ABAB': Buffer.from('AB'.repeat(90)),
    'random 9-bit only': randomBytes(180, 21),
    'all byte values': Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)),
  };
  for (let bits = 9; bits <= 16; bits++) {
    for (const [name, data] of Object.entries(inputs)) {
      const z = compress(data, bits);
      const ref = uncompress(z);
      t.ok(ref.ok && ref.out.equals(data), `uncompress round trip -b${bits} ${name}`);
      t.ok(decodeSync(z).out.equals(data), `-b${bits} ${name}`);
      t.ok(decodeSync(z, [1]).out.equals(data), `-b${bits} ${name}, 1-byte chunks`);
    }
  }
});

t.test('a code cut by a chunk boundary: every split point', async (t) => {
  // Two and three pieces, split at every byte: codes cross the boundary at
  // every bit offset, group padding and width changes included.
  const data = Buffer.concat([text(3000), randomBytes(1500, 4), text(2000)]);
  for (const bits of [9, 12, 16]) {
    const z = compress(data.subarray(0, bits === 9 ? 300 : data.length), bits);
    const want = uncompress(z).out;
    let bad = 0;
    for (let cut = 0; cut <= z.length; cut++) {
      if (!decodeSync(z, [cut || 1, z.length]).out.equals(want)) bad++;
      const third = Math.max(1, cut >> 1);
      if (!decodeSync(z, [third, Math.max(1, cut - third), 2, z.length]).out.equals(want)) bad++;
    }
    t.equal(bad, 0, `-b${bits}: ${z.length + 1} split points`);
  }
});

t.test('a full output buffer stops mid-chunk, also while a code is carried', async (t) => {
  // Zeros expand fast: the buffer fills inside small input chunks, and the
  // caller passes the same chunk again from where run() stopped.
  const data = Buffer.concat([Buffer.alloc(5 * 1024 * 1024), text(300 * 1024), Buffer.alloc(3 * 1024 * 1024, 7)]);
  const z = compress(data, 16);
  for (const sizes of [[1], [3, 1, 2], [4093], [z.length]]) {
    t.ok(decodeSync(z, sizes).out.equals(data), `chunks ${sizes.join(',')}`);
  }
});

t.test('strings from buffers already handed out (table full, no CLEAR)', async (t) => {
  // Repetitive text fills the table and keeps the ratio good, so entries
  // defined megabytes ago keep being used: rebuilt from the prefix chain.
  // A small window slides every megabyte; the default one, longer data.
  for (const [window, mib] of [[SMALL_WINDOW, 6], [DEFAULT_WINDOW, 24]] as const) {
    const data = text(mib * 1024 * 1024);
    for (const bits of [12, 16]) {
      const z = compress(data, bits);
      const { out, clears } = decodeSync(z, [65536], window);
      t.ok(out.equals(data), `${window.area >> 20} MiB window, -b${bits}: same bytes (${clears} CLEAR codes)`);
    }
  }
});

t.test('a window must hold a whole output buffer beside its history', async (t) => {
  t.throws(() => new LzwDecoder({ area: 2 * 1024 * 1024, keep: 1024 * 1024 + 1 }), /window too small/);
  t.doesNotThrow(() => new LzwDecoder({ area: 2 * 1024 * 1024, keep: 1024 * 1024 - 8 }));
});

t.test('worker thread: source chunks of any size, a slow consumer, bounded read-ahead', async (t) => {
  const data = mixed(6 * 1024 * 1024);
  const z = compress(data, 16);
  // A chunk bigger than the reused input buffers, then small and odd ones.
  const w = await collect(decodeWith('compress', sized(z, [3 * 1024 * 1024, 1, 65536, 7, 1024 * 1024 + 3]), { lzw: 'worker' }));
  t.ok(w.equals(data), 'same bytes with input buffers reallocated and reused');

  let pulled = 0;
  async function* counting(): AsyncGenerator<Buffer> {
    for (const c of chunks(z, [65536])) {
      pulled += c.length;
      yield c;
    }
  }
  const out: Buffer[] = [];
  let most = 0;
  for await (const c of decodeWith('compress', counting(), { lzw: 'worker' })) {
    out.push(c);
    const got = out.reduce((n, b) => n + b.length, 0);
    // Pause: the thread may run ahead only by its credits, never to the end.
    await new Promise((r) => setTimeout(r, 15));
    most = Math.max(most, pulled - got);
  }
  t.ok(Buffer.concat(out).equals(data), 'a slow consumer gets the same bytes');
  t.ok(most < 8 * 1024 * 1024 && pulled === z.length, `read ahead of the consumer at most ${most} bytes`);
});

t.test('where .Z is decoded: a thread only beside more than 2 CPUs; the environment overrides', async (t) => {
  t.equal(lzwWhere(undefined, 2), 'inline', '2 CPUs: inline');
  t.equal(lzwWhere(undefined, 1), 'inline', '1 CPU: inline');
  t.equal(lzwWhere(undefined, 4), 'worker', '4 CPUs: the thread');
  t.equal(lzwWhere('worker', 2), 'worker', 'ZONEP2V_LZW=worker');
  t.equal(lzwWhere('inline', 8), 'inline', 'ZONEP2V_LZW=inline');
  t.equal(lzwWhere('bogus', 8), 'worker', 'an unknown value is ignored');
});

t.test('the decoder thread starts under the launcher\'s own node flags', async (t) => {
  // V8 flags repeated in a Worker's execArgv make it throw, and the decoder
  // then fell back to inline without a word: under bin/zonep2v.js's flags
  // .Z was never decoded on the thread.
  t.ok(BIN_NODE_FLAGS.length > 0, `launcher flags: ${BIN_NODE_FLAGS.join(' ')}`);
  const mod = new URL('../src/decode/lzw-thread.js', import.meta.url).href;
  const script = `const { startWorker } = await import(${JSON.stringify(mod)}); const w = startWorker(); console.log(w ? 'thread' : 'none'); await w?.terminate();`;
  const r = spawnSync(process.execPath, [...BIN_NODE_FLAGS, '--input-type=module', '-e', script], { encoding: 'utf8' });
  t.equal(r.stdout.trim(), 'thread', `a thread was started (stderr: ${r.stderr.trim() || 'none'})`);
});

t.test('the WebAssembly inner loop: its committed bytes are lzw.wat assembled', async (t) => {
  const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
  const script = (await import(pathToFileURL(path.join(repo, 'scripts', 'lzw-wasm.mjs')).href)) as { assemble(): Promise<Buffer> };
  const bytes = await script.assemble();
  t.equal(LZW_WASM_BASE64, bytes.toString('base64'), 'src/decode/lzw-wasm.ts is current: run `node scripts/lzw-wasm.mjs` after editing lzw.wat');
});

t.test('the JavaScript-only loop and the WebAssembly inner loop decode alike', async (t) => {
  // Both loops see every kind of code: short and long strings, KwKwK runs,
  // strings rebuilt after sliding out of a small window, CLEAR, width
  // changes, codes cut by chunk boundaries, a full output buffer, input
  // chunks longer than the inner loop's input area, streams without block
  // mode.
  const data = Buffer.concat([text(3 * 1024 * 1024), Buffer.alloc(2 * 1024 * 1024), mixed(2 * 1024 * 1024), randomBytes(600 * 1024, 9), Buffer.alloc(4096, 0x61)]);
  // No block mode (code 256 is a string, there is no CLEAR): made here,
  // checked against uncompress.
  const noBlock = (input: Buffer) => {
    const z = lzwCompress(input, false);
    t.ok(uncompress(z).out.equals(input), 'uncompress reads the stream without block mode');
    return z;
  };
  for (const bits of [9, 12, 16, 0]) {
    const input = bits === 9 ? data.subarray(0, 300) : data;
    const z = bits ? compress(input, bits) : noBlock(input);
    const what = bits ? `-b${bits}` : 'no block mode';
    const splits: number[][] = [[z.length], [IN_MAX * 3 + 5], [4093, 1, 7], [65536]];
    for (const sizes of splits) {
      for (const window of [DEFAULT_WINDOW, SMALL_WINDOW]) {
        const js = decodeSync(z, sizes, window, 'js');
        const wasm = decodeSync(z, sizes, window, 'wasm');
        t.ok(js.out.equals(input), `${what}, chunks ${sizes.join(',')}, ${window.area >> 20} MiB window: JavaScript loop`);
        t.ok(wasm.out.equals(input), `${what}, chunks ${sizes.join(',')}, ${window.area >> 20} MiB window: WebAssembly loop`);
        t.equal(wasm.clears, js.clears, 'same CLEAR codes seen');
      }
    }
  }
  // Errors: a bad code found by either loop is reported at the same place.
  const z = Buffer.from(compress(mixed(200 * 1024), 16));
  z.fill(0xff, 3000, 3064);
  const fail = (loop: 'wasm' | 'js') => {
    try {
      decodeSync(z, [4096], undefined, loop);
      return 'decoded';
    } catch (e) {
      return (e as Error).message;
    }
  };
  t.match(fail('wasm'), /bad code/, 'the WebAssembly loop leaves the bad code to the checks');
  t.equal(fail('wasm'), fail('js'), 'the same error from both loops');
});

t.test('the two loops agree on damaged streams: the same bytes or the same error', async (t) => {
  // Valid streams of several widths with a few bytes overwritten, some cut:
  // garbage that still decodes, bad codes, cuts inside codes and groups.
  const r = prng(0x1a2b3c);
  const sources = [text(200 * 1024), mixed(300 * 1024)];
  const bases = [9, 12, 16].flatMap((bits) => sources.map((d) => compress(bits === 9 ? d.subarray(0, 2000) : d, bits)));
  const outcome = (z: Buffer, sizes: number[], loop: 'wasm' | 'js') => {
    try {
      return `ok ${crypto.createHash('sha1').update(decodeSync(z, sizes, SMALL_WINDOW, loop).out).digest('hex')}`;
    } catch (e) {
      return `${(e as Error).constructor.name}: ${(e as Error).message}`;
    }
  };
  let decoded = 0;
  const differ: string[] = [];
  for (let k = 0; k < 300; k++) {
    const z = Buffer.from(bases[Math.floor(r() * bases.length)]!);
    for (let f = Math.floor(r() * 4); f > 0; f--) z[3 + Math.floor(r() * (z.length - 3))] = Math.floor(r() * 256);
    const cut = r() < 0.2 ? z.subarray(0, Math.floor(r() * z.length)) : z;
    const sizes = [[cut.length || 1], [4093, 7, 1], [65536]][Math.floor(r() * 3)]!;
    const a = outcome(cut, sizes, 'wasm');
    const b = outcome(cut, sizes, 'js');
    if (a !== b) differ.push(`case ${k}: wasm ${a.slice(0, 120)} / js ${b.slice(0, 120)}`);
    if (a.startsWith('ok')) decoded++;
    else t.match(a, /^(ArchiveError|TruncatedError): /, `case ${k}: a decoder error, not a crash`);
  }
  t.same(differ, [], 'no case where the loops differ');
  t.ok(decoded > 30 && decoded < 270, `both outcomes occur (${decoded} of 300 decoded)`);
});

// A WebAssembly memory reserves gigabytes of address space; node itself
// starts under this limit, the memory does not.
const LIMIT_KIB = 4_000_000;
function underLimit(script: string, input?: Buffer) {
  return spawnSync('sh', ['-c', `ulimit -v ${LIMIT_KIB} && exec "$0" --input-type=module -e "$1"`, process.execPath, script], { input, maxBuffer: 1 << 28 });
}
const probe = underLimit("try { new WebAssembly.Memory({ initial: 130, maximum: 130 }); console.log('wasm'); } catch { console.log('none'); }");
const probed = probe.stdout.toString().trim();
const noWasmSkip = probed === 'none' ? false : `WebAssembly memory is available under ulimit -v ${LIMIT_KIB} here (${probed || probe.stderr.toString().trim()})`;

t.test('where no WebAssembly memory can be had (ulimit -v), the JavaScript loop decodes', { skip: noWasmSkip }, async (t) => {
  const data = mixed(3 * 1024 * 1024);
  const z = compress(data, 16);
  const lzw = pathToFileURL(path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'src', 'decode', 'lzw.js')).href;
  const r = underLimit(
    `import fs from 'node:fs'; const { LzwDecoder } = await import('${lzw}'); const z = fs.readFileSync(0); const d = new LzwDecoder(); const out = [];` +
      ' let ip = 0; while (ip < z.length) { ip = d.run(z, ip); if (d.full) out.push(d.take()); } d.finish(); out.push(d.take()); process.stdout.write(Buffer.concat(out));',
    z,
  );
  t.equal(r.status, 0, `decoded under the limit ${r.stderr.toString().trim()}`);
  t.ok(r.stdout.equals(data), 'the same bytes');
});
