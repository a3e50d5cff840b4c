// The decode stage against the reference tools: detection by magic bytes,
// each codec on generated data, concatenated and nested streams, late
// failures (bad CRC, a killed or failing decompressor) as errors, early stop
// and abort killing the child, the ratio cap, backpressure, and the
// compressed conformance files against bsdcat.

import { CONFORMANCE_DIR } from './lib/conformance.js';
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeStream, decodeWith, sniffCompression, type DecodeOptions } from '../src/decode/index.js';
import { pickBzip2 } from '../src/decode/bzip2.js';
import { ArchiveError } from '../src/errors.js';

const CONFORMANCE = CONFORMANCE_DIR;

function tool(cmd: string, args: string[], input: Buffer): Buffer {
  return execFileSync(cmd, args, { input, maxBuffer: 1 << 28 });
}
const gz = (b: Buffer) => tool('gzip', ['-c'], b);
const bz = (b: Buffer) => tool('bzip2', ['-c'], b);
const xz = (b: Buffer) => tool('xz', ['-c', '-0'], b);
const Z = (b: Buffer) => tool('compress', ['-f', '-c'], b);

function text(n: number): Buffer {
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; len < n; i++) {
    const l = `${i} ./usr/sbin/tool${i % 41} 0${(i * 31) % 777} root sys ${i * 13}\n`;
    parts.push(l);
    len += l.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}
const random = (n: number) => crypto.randomBytes(n);

async function* chunked(b: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let off = 0; off < b.length; off += size) yield b.subarray(off, off + size);
}

interface Outcome {
  layers: string[];
  out: Buffer;
  err?: unknown;
}

/** Decode everything; an error is returned with the bytes that came before it. */
async function run(input: Buffer | AsyncIterable<Buffer>, opts: DecodeOptions = {}): Promise<Outcome> {
  const src = Buffer.isBuffer(input) ? chunked(input) : input;
  const parts: Buffer[] = [];
  let layers: string[] = [];
  try {
    const d = await decodeStream(src, opts);
    layers = d.layers;
    for await (const c of d.data) parts.push(c);
  } catch (err) {
    return { layers, out: Buffer.concat(parts), err };
  }
  return { layers, out: Buffer.concat(parts) };
}

/** Fail the test unless `o` ended with an ArchiveError of `kind` whose message matches `re`. */
function failed(t: Test, o: Outcome, kind: string, re: RegExp, what: string): void {
  t.ok(o.err instanceof ArchiveError, `${what}: ArchiveError (${(o.err as Error | undefined)?.message})`);
  t.equal((o.err as ArchiveError | undefined)?.kind, kind, `${what}: kind ${kind}`);
  t.match((o.err as Error | undefined)?.message ?? '', re, `${what}: message`);
}

/** The error that ends iterating `it`, or null. */
async function errorOf(it: AsyncIterable<Buffer>): Promise<unknown> {
  try {
    for await (const _ of it) void _;
  } catch (e) {
    return e;
  }
  return null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Wait (bounded) for a process that was killed without anyone awaiting it. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 500 && alive(pid); i++) await new Promise((r) => setTimeout(r, 10));
  return !alive(pid);
}

/** A source that yields `head` and then waits until released (a stalled pipe). */
function stalled(head: Buffer): { src: AsyncGenerator<Buffer>; release: () => void } {
  let release = () => {};
  const gate = new Promise<void>((r) => (release = r));
  async function* src(): AsyncGenerator<Buffer> {
    yield head;
    await gate;
  }
  return { src: src(), release };
}

const T = text(1536 * 1024);
const R = random(300 * 1024);

t.test('sniffCompression: by magic bytes only', async (t) => {
  t.equal(sniffCompression(gz(Buffer.from('x')).subarray(0, 10)), 'gzip');
  t.equal(sniffCompression(bz(Buffer.from('x')).subarray(0, 10)), 'bzip2');
  t.equal(sniffCompression(bz(Buffer.alloc(0)).subarray(0, 10)), 'bzip2', 'an empty bzip2 stream (end-of-stream magic)');
  t.equal(sniffCompression(xz(Buffer.from('x')).subarray(0, 10)), 'xz');
  t.equal(sniffCompression(Z(Buffer.from('xxxxxxxx')).subarray(0, 10)), 'compress');
  t.equal(sniffCompression(Buffer.from('BZh91AY&SYrest')), 'bzip2');
  t.equal(sniffCompression(Buffer.from('BZh9 is a file name')), null, 'BZh without a block magic');
  t.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 0x07, 0, 0, 0, 0, 0, 0, 0])), null, 'gzip magic with another method');
  t.equal(sniffCompression(Buffer.from([0x1f, 0x9d, 0xf0, 0, 0, 0, 0, 0, 0, 0])), null, 'compress magic with reserved flags');
  t.equal(sniffCompression(Buffer.from('070707000000000000')), null, 'cpio');
  t.equal(sniffCompression(Buffer.alloc(0)), null, 'empty');
  t.equal(sniffCompression(fs.readFileSync(path.join(CONFORMANCE, 'test_compat_gtar_1.tar')).subarray(0, 10)), null, 'tar');
});

t.test('uncompressed input passes through unchanged', async (t) => {
  // The head is peeked across tiny chunks: none of its bytes may be lost.
  async function* tiny(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 12; i++) yield T.subarray(i, i + 1);
    yield Buffer.alloc(0);
    yield* chunked(T.subarray(12), 4096);
  }
  const o = await run(tiny());
  t.same(o.layers, []);
  t.error(o.err);
  t.ok(o.out.equals(T), 'same bytes');
  const e = await run(Buffer.alloc(0));
  t.same(e.layers, []);
  t.equal(e.out.length, 0, 'empty input: empty output');
  t.error(e.err);
});

t.test('gzip', async (t) => {
  for (const [name, data] of [
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from('z')],
    ['text 1.5M', T],
    ['random 300K', R],
  ] as const) {
    const o = await run(gz(data));
    t.error(o.err, name);
    t.same(o.layers, ['gzip'], `${name}: layers`);
    t.ok(o.out.equals(data), `${name}: same bytes as the original`);
  }
  // Odd chunking: 1..7-byte chunks through zlib.
  async function* odd(b: Buffer): AsyncGenerator<Buffer> {
    for (let off = 0, i = 0; off < b.length; i++) {
      const n = (i % 7) + 1;
      yield b.subarray(off, off + n);
      off += n;
    }
  }
  const small = text(20000);
  t.ok((await run(odd(gz(small)))).out.equals(small), '1..7-byte chunks');

  const cat = Buffer.concat([gz(T), gz(R), gz(Buffer.alloc(0)), gz(small)]);
  const c = await run(cat);
  t.error(c.err);
  t.ok(c.out.equals(Buffer.concat([T, R, small])), 'concatenated members read as one stream');
  t.ok(c.out.equals(tool('gzip', ['-dc'], cat)), 'same as gzip -dc');

  const padded = await run(Buffer.concat([gz(small), Buffer.alloc(10240)]));
  t.error(padded.err, 'zero padding after the last member is accepted');
  t.ok(padded.out.equals(small));
  failed(t, await run(Buffer.concat([gz(small), Buffer.from('garbage')])), 'decompress', /gzip: bytes that are not gzip follow a gzip member/, 'trailing garbage');
});

t.test('gzip: bad trailer and truncation are errors, after the data', async (t) => {
  const g = gz(T);
  // CRC-32 is the trailer's first 4 bytes, the length its last 4.
  for (const [name, at, re] of [
    ['bad CRC', g.length - 8, /incorrect data check/],
    ['bad length', g.length - 1, /incorrect length check/],
  ] as const) {
    const bad = Buffer.from(g);
    bad[at] ^= 0xff;
    const o = await run(bad);
    failed(t, o, 'decompress', re, name);
    t.ok(o.out.length > 0 && o.out.equals(T.subarray(0, o.out.length)), `${name}: ${o.out.length} good bytes came first`);
    t.equal((o.err as ArchiveError).offset, o.out.length, `${name}: the offset is the decoded byte count`);
  }
  for (const cut of [1, 9, Math.floor(g.length / 2)]) {
    failed(t, await run(g.subarray(0, g.length - cut)), 'decompress', /gzip: truncated/, `cut ${cut} bytes`);
  }
  const werr = await errorOf(decodeWith('gzip', chunked(g.subarray(0, 100))));
  t.equal((werr as ArchiveError | null)?.kind, 'decompress', 'decodeWith reports it too');
});

t.test('bzip2: lbzip2, bzip2 and the JS fallback', async (t) => {
  const inputs = { empty: Buffer.alloc(0), 'text 1.5M': T, 'random 300K': R };
  const comp = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, bz(v)]));
  for (const dec of ['lbzip2', 'bzip2', 'js'] as const) {
    for (const [name, data] of Object.entries(inputs)) {
      const o = await run(comp[name]!, { bzip2: dec });
      t.error(o.err, `${dec} ${name}`);
      t.same(o.layers, ['bzip2']);
      t.ok(o.out.equals(data), `${dec} ${name}: same bytes`);
    }
    const two = Buffer.concat([comp['text 1.5M']!, comp['random 300K']!]);
    t.ok((await run(two, { bzip2: dec })).out.equals(Buffer.concat([T, R])), `${dec}: concatenated streams`);
    // What follows the last stream and starts none: ignored by all three, as bzip2 does.
    for (const [what, tail] of [['zero padding', Buffer.alloc(10240)], ['junk', Buffer.from('not bzip2 at all\n')]] as const) {
      const o = await run(Buffer.concat([two, tail]), { bzip2: dec });
      t.error(o.err, `${dec}: ${what} after the last stream`);
      t.ok(o.out.equals(Buffer.concat([T, R])), `${dec}: ${what} after the last stream: same bytes`);
    }
    const full = comp['text 1.5M']!;
    for (const cut of [10, Math.floor(full.length / 2)]) {
      const o = await run(full.subarray(0, full.length - cut), { bzip2: dec });
      failed(t, o, 'decompress', dec === 'js' ? /built-in decoder/ : new RegExp(`${dec} -d -c exited with status [12]`), `${dec}: cut ${cut} bytes`);
    }
  }
});

t.test('bzip2: a bad CRC after the last block fails after the data', async (t) => {
  // The stream CRC is the 4 bytes before the final bit padding; corrupting
  // the very last bytes breaks it (or the end-of-stream magic) after every
  // block has been decoded.
  const b = bz(text(1000000));
  const bad = Buffer.from(b);
  bad[bad.length - 2] ^= 0xff;
  for (const [dec, why] of [
    ['lbzip2', /stream CRC mismatch/],
    ['bzip2', /Data integrity error/],
  ] as const) {
    const o = await run(bad, { bzip2: dec });
    failed(t, o, 'decompress', new RegExp(`${dec} -d -c exited with status [12] after ${o.out.length} decoded bytes: `), `${dec} bad CRC`);
    t.match((o.err as Error).message, why, `${dec}: its stderr is in the message`);
    if (dec === 'bzip2') t.ok(o.out.length > 0, `bzip2: ${o.out.length} bytes came out before the error`);
  }
});

t.test('the JS bzip2 decoder is only a fallback', async (t) => {
  const saved = { path: process.env.PATH, env: process.env.ZONEP2V_BZIP2 };
  t.teardown(() => {
    process.env.PATH = saved.path;
    if (saved.env === undefined) delete process.env.ZONEP2V_BZIP2;
    else process.env.ZONEP2V_BZIP2 = saved.env;
  });
  t.equal(pickBzip2(), 'lbzip2', 'lbzip2 first when installed');
  process.env.ZONEP2V_BZIP2 = 'js';
  t.equal(pickBzip2(), 'js', 'ZONEP2V_BZIP2=js forces the fallback');
  const o = await run(bz(R));
  t.ok(o.out.equals(R), 'decodes through the forced fallback');
  delete process.env.ZONEP2V_BZIP2;
  // No decompressor on PATH: auto falls back to JS, xz has no fallback.
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'zonep2v-decode-'));
  t.teardown(() => fs.rmSync(empty, { recursive: true, force: true }));
  const bzR = bz(R);
  const xzR = xz(R);
  process.env.PATH = empty;
  t.equal(pickBzip2(), 'js', 'no lbzip2/bzip2: JS');
  const o2 = await run(bzR);
  t.ok(o2.out.equals(R), 'decodes without any bzip2 program');
  const o3 = await run(xzR);
  failed(t, o3, 'decompress', /needs the xz program, which is not installed/, 'xz without xz');
  t.match((o3.err as ArchiveError).hint, /install xz/);
});

t.test('xz', async (t) => {
  for (const [name, data] of [
    ['empty', Buffer.alloc(0)],
    ['text 1.5M', T],
    ['random 300K', R],
  ] as const) {
    const o = await run(xz(data));
    t.error(o.err, name);
    t.same(o.layers, ['xz']);
    t.ok(o.out.equals(data), `${name}: same bytes`);
  }
  t.ok((await run(Buffer.concat([xz(T), xz(R)]))).out.equals(Buffer.concat([T, R])), 'concatenated streams');
  const x = xz(T);
  failed(t, await run(x.subarray(0, x.length - 30)), 'decompress', /xz -d -c -T0 exited with status 1 .*Unexpected end of input/, 'truncated');
  // The stream footer's magic is the last two bytes: every byte of data is
  // out before xz finds it broken, and the iterable still fails.
  const bad = Buffer.from(x);
  bad[bad.length - 1] ^= 0xff;
  const o = await run(bad);
  failed(t, o, 'decompress', /xz -d -c -T0 exited with status 1/, 'bad footer');
  t.ok(o.out.equals(T), 'all the data came out before the error');
});

t.test('a killed decompressor is an error', async (t) => {
  const b = bz(T);
  for (const dec of ['lbzip2', 'bzip2'] as const) {
    const { src, release } = stalled(b.subarray(0, b.length >> 1));
    t.teardown(release);
    let pid = 0;
    const o = await run(src, {
      bzip2: dec,
      onSpawn: (p) => {
        pid = p;
        process.kill(p, 'SIGKILL');
      },
    });
    failed(t, o, 'decompress', new RegExp(`${dec} -d -c was killed by SIGKILL`), dec);
    t.notOk(alive(pid), 'reaped');
  }
});

t.test('a failing source fails the stream and stops the child', async (t) => {
  const b = xz(T);
  const boom = new Error('read error on the source');
  async function* src(): AsyncGenerator<Buffer> {
    yield b.subarray(0, 1000);
    throw boom;
  }
  let pid = 0;
  const o = await run(src(), { onSpawn: (p) => (pid = p) });
  t.equal(o.err, boom, 'the source error comes through unchanged');
  t.ok(await gone(pid), 'xz is gone');
  // Same through zlib and LZW.
  async function* src2(z: Buffer): AsyncGenerator<Buffer> {
    yield z.subarray(0, 1000);
    throw boom;
  }
  t.equal((await run(src2(gz(T)))).err, boom, 'gzip');
  t.equal((await run(src2(Z(T)))).err, boom, 'compress');
});

t.test('stopping early kills the child', async (t) => {
  const big = text(8 * 1024 * 1024);
  for (const [name, comp, opts] of [
    ['xz', xz(big), {}],
    ['lbzip2', bz(big), { bzip2: 'lbzip2' }],
  ] as const) {
    let pid = 0;
    const d = await decodeStream(chunked(comp), { ...opts, onSpawn: (p) => (pid = p) });
    for await (const c of d.data) {
      t.ok(c.length > 0);
      break;
    }
    t.ok(pid > 0, `${name} ran`);
    t.notOk(alive(pid), `${name} killed and reaped once return() resolves`);
  }
  // return() before the first read.
  let pid = 0;
  const d = await decodeStream(chunked(xz(big)), { onSpawn: (p) => (pid = p) });
  await d.data[Symbol.asyncIterator]().return!();
  t.notOk(alive(pid), 'return() before any read');
  // Nested: the inner layer's process is killed too.
  const pids: number[] = [];
  const n = await decodeStream(chunked(gz(xz(big))), { onSpawn: (p) => pids.push(p) });
  t.same(n.layers, ['gzip', 'xz']);
  for await (const _ of n.data) break;
  t.equal(pids.length, 1);
  t.ok(await gone(pids[0]!), 'nested xz gone');
});

t.test('abort kills the child and rejects with the reason', async (t) => {
  const comp = xz(text(8 * 1024 * 1024));
  const ac = new AbortController();
  let pid = 0;
  const d = await decodeStream(chunked(comp), { signal: ac.signal, onSpawn: (p) => (pid = p) });
  const it = d.data[Symbol.asyncIterator]();
  t.notOk((await it.next()).done);
  const reason = new Error('user pressed ^C');
  ac.abort(reason);
  await t.rejects(it.next(), reason);
  t.ok(await gone(pid), 'xz gone');
  await t.rejects(decodeStream(chunked(comp), { signal: ac.signal }), reason, 'an aborted signal refuses to start');
  // In-process codecs see it too.
  const ac2 = new AbortController();
  const g = await decodeStream(chunked(gz(T), 4096), { signal: ac2.signal });
  const gi = g.data[Symbol.asyncIterator]();
  await gi.next();
  ac2.abort(reason);
  await t.rejects(gi.next(), reason, 'gzip');
});

t.test('decompression ratio cap', async (t) => {
  const zeros = tool('gzip', ['-9', '-c'], Buffer.alloc(24 * 1024 * 1024));
  const o = await run(zeros, { maxRatio: 100, ratioMinOutput: 8 << 20 });
  failed(t, o, 'ratio', /decompression ratio over 100:1/, 'gzip bomb');
  t.ok(o.out.length < 24 * 1024 * 1024, `stopped after ${o.out.length} bytes`);
  t.match((o.err as ArchiveError).hint, /bomb/);
  const ok = await run(zeros, { maxRatio: 2000, ratioMinOutput: 8 << 20 });
  t.error(ok.err, 'under the cap');
  t.equal(ok.out.length, 24 * 1024 * 1024);
  const off = await run(zeros, { maxRatio: Infinity });
  t.error(off.err, 'Infinity turns it off');
  // Tiny inputs are not judged: 1 MiB of zeros is ~1000:1 but under RATIO_MIN_OUTPUT.
  t.error((await run(gz(Buffer.alloc(1 << 20)), { maxRatio: 10, ratioMinOutput: 8 << 20 })).err, 'small outputs are not judged');
  // decodeWith caps too (for a flar's compressed payload), and kills an xz child.
  let pid = 0;
  const w = decodeWith('xz', chunked(xz(Buffer.alloc(32 * 1024 * 1024))), { maxRatio: 50, ratioMinOutput: 8 << 20, onSpawn: (p) => (pid = p) });
  t.equal(((await errorOf(w)) as ArchiveError | null)?.kind, 'ratio', 'decodeWith: ratio error');
  t.notOk(alive(pid), 'xz killed');
});

t.test('nested layers', async (t) => {
  const data = text(300000);
  const o = await run(xz(gz(data)));
  t.same(o.layers, ['xz', 'gzip']);
  t.ok(o.out.equals(data));
  const o2 = await run(bz(Z(data)));
  t.same(o2.layers, ['bzip2', 'compress']);
  t.ok(o2.out.equals(data));
  const o3 = await run(gz(gz(gz(data))));
  t.same(o3.layers, ['gzip', 'gzip', 'gzip'], 'three layers are fine');
  t.ok(o3.out.equals(data));
  const o4 = await run(gz(gz(gz(gz(data)))));
  failed(t, o4, 'layers', /more than 3 nested compression layers/, 'four layers');
});

t.test('backpressure: nothing is read far ahead of the consumer', async (t) => {
  const data = random(8 * 1024 * 1024);
  for (const [name, comp] of [
    ['gzip', gz(data)],
    ['xz', xz(data)],
    ['compress', Z(data)],
  ] as const) {
    let pulled = 0;
    async function* src(): AsyncGenerator<Buffer> {
      for await (const c of chunked(comp)) {
        pulled += c.length;
        yield c;
      }
    }
    const d = await decodeStream(src());
    const it = d.data[Symbol.asyncIterator]();
    await it.next();
    // Give the pumps every chance to run ahead.
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 10));
    t.ok(pulled < comp.length / 4, `${name}: ${pulled} of ${comp.length} compressed bytes read while the consumer waits`);
    await it.return!();
  }
});

t.test('conformance compressed files decode like bsdcat', async (t) => {
  const files = fs.readdirSync(CONFORMANCE).filter((f) => /\.(Z|gz|bz2|xz)$/.test(f));
  t.ok(files.length >= 8, `${files.length} files`);
  for (const f of files) {
    const p = path.join(CONFORMANCE, f);
    const ref = execFileSync('bsdcat', [p], { maxBuffer: 1 << 26 });
    const o = await run(fs.readFileSync(p));
    t.error(o.err, f);
    t.ok(o.out.equals(ref), `${f}: ${o.layers.join('+')}, ${o.out.length} bytes like bsdcat`);
    t.equal(o.layers.length, 1);
  }
});
