// Seeded mutation fuzzing of every reader (security.md 3.7, libarchive
// test_fuzz.c style): small valid archives in each format (tar ustar, pax
// and GNU; cpio newc, crc, odc and bin in both byte orders; ufsdump in both
// byte orders; flar with cpio, pax and .Z payloads; gzip and .Z wrappers) are
// truncated, byte-flipped (header bytes with their checksum fixed, so the
// edits reach the field checks), spliced, or mutated inside a compression
// layer, and run in-process through openArchive into NullSink, or into
// FsSink in a fresh root beside a canary for a sample. Invariants: the run
// settles within the time bound; any error is an ArchiveError; with FsSink,
// nothing outside the root changes and a failed run leaves the root empty.
//
// Reproduce a failure: ZONEP2V_FUZZ_SEED=<seed> ZONEP2V_FUZZ_ONLY=<family>:<case>.
// Scale the number of cases: ZONEP2V_FUZZ_SCALE (default 1).

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ArchiveError } from '../src/errors.js';
import { extract, prng } from './hostile/harness.js';
import { encode, encodeDump, type Fmt, type HEntry } from './hostile/gen/entries.js';
import { fixSum } from './hostile/gen/tar.js';
import { compressZ, gzip } from './hostile/gen/compress.js';
import { flar } from './hostile/gen/flar.js';
import { setChecksum } from '../src/formats/dump-header.js';
import { setupEnv } from './sink-lib.js';
import { tmpdir } from './lib/tree.js';

const SEED = Number(process.env.ZONEP2V_FUZZ_SEED ?? 0x5eed2026);
const SCALE = Number(process.env.ZONEP2V_FUZZ_SCALE ?? 1);
const ONLY = process.env.ZONEP2V_FUZZ_ONLY;
const BOUND_MS = 5000;
/** One case in this many writes through FsSink into a fresh root (the rest use NullSink). */
const FS_EVERY = 25;

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, a: readonly T[]): T => a[int(r, a.length)]!;

// ---------------------------------------------------------------- the seeds

const text = (n: number, s: string) => s.repeat(Math.ceil(n / s.length)).slice(0, n);
const ENTRIES: HEntry[] = [
  { name: 'etc', type: 'dir', mode: 0o755 },
  { name: 'etc/passwd', data: 'root:x:0:0:Super-User:/:/sbin/sh\ndaemon:x:1:1::/:\n', mode: 0o644 },
  { name: 'etc/motd', data: text(700, 'Sun Microsystems Inc.   SunOS 5.10   Generic January 2005\n'), mode: 0o644, uid: 2, gid: 2 },
  { name: 'etc/localtime', type: 'symlink', link: '../usr/share/lib/zoneinfo/UTC' },
  { name: 'etc/passwd.hl', type: 'hardlink', link: 'etc/passwd' },
  { name: 'etc/saf/_cmdpipe', type: 'fifo', mode: 0o600 },
  { name: 'usr/bin', type: 'dir', mode: 0o755 },
  { name: 'usr/bin/ls', data: Buffer.from(Array.from({ length: 1500 }, (_, i) => (i * 37 + 11) & 0xff)), mode: 0o555, uid: 2, gid: 2 },
  { name: 'usr/bin/passwd', data: '#!/bin/sh\n', mode: 0o4555 },
  { name: `opt/${'long-directory-name/'.repeat(7)}file`, data: 'deep\n' },
  { name: 'tmp', type: 'dir', mode: 0o1777 },
  { name: 'caf\xe9', data: 'latin1 name\n' },
];

/** Offsets where headers start in a base archive (mutations favour them). */
function headerOffsets(buf: Buffer, kind: 'tar' | 'cpio' | 'dump' | 'bin'): number[] {
  const out: number[] = [];
  if (kind === 'tar') {
    for (let o = 0; o + 512 <= buf.length; o += 512) if (buf.toString('latin1', o + 257, o + 262) === 'ustar') out.push(o);
  } else if (kind === 'cpio') {
    for (let o = buf.indexOf('07070'); o >= 0; o = buf.indexOf('07070', o + 1)) out.push(o);
  } else if (kind === 'bin') {
    for (let o = 0; o + 1 < buf.length; o += 2) if ((buf[o] === 0xc7 && buf[o + 1] === 0x71) || (buf[o] === 0x71 && buf[o + 1] === 0xc7)) out.push(o);
  } else {
    for (let o = 0; o + 1024 <= buf.length; o += 1024) if (buf.readInt32BE(o + 24) === 60012 || buf.readInt32LE(o + 24) === 60012) out.push(o);
  }
  return out.length ? out : [0];
}

interface Base {
  buf: Buffer;
  kind: 'tar' | 'cpio' | 'dump' | 'bin';
  heads: number[];
  /** Byte order of a dump (for its header checksum). */
  order?: 'le' | 'be';
}

function base(f: Fmt, order: 'le' | 'be' = 'be'): Base {
  const buf = f === 'dump' ? encodeDump(ENTRIES, order) : encode(ENTRIES, f);
  const kind = f === 'ustar' || f === 'pax' || f === 'gnu' ? 'tar' : f === 'dump' ? 'dump' : f.startsWith('bin') ? 'bin' : 'cpio';
  return { buf, kind, heads: headerOffsets(buf, kind), order };
}

// ---------------------------------------------------------------- mutations

/** Mutate a copy of `b.buf`; returns the bytes and a description. */
function mutate(r: Rand, b: Base, hex = true): { buf: Buffer; what: string } {
  const src = b.buf;
  const op = r();
  if (op < 0.25) {
    const n = int(r, src.length);
    return { buf: src.subarray(0, n), what: `truncate at ${n}` };
  }
  if (op < 0.85) {
    const buf = Buffer.from(src);
    const flips: string[] = [];
    const n = 1 + int(r, 4);
    for (let k = 0; k < n; k++) {
      const inHeader = r() < 0.7;
      const h = pick(r, b.heads);
      let off: number;
      if (inHeader) off = h + int(r, b.kind === 'tar' ? 512 : b.kind === 'dump' ? 1024 : b.kind === 'bin' ? 26 : hex ? 110 : 76);
      else off = int(r, buf.length);
      if (off >= buf.length) continue;
      let v = int(r, 256);
      // ASCII cpio: mostly a valid digit, so the header still parses and the value is what changes.
      if (b.kind === 'cpio' && inHeader && off - h >= 6 && r() < 0.6) v = (hex ? '0123456789ABCDEF' : '01234567').charCodeAt(int(r, hex ? 16 : 8));
      if (r() < 0.15) v = pick(r, [0, 0xff, 0x7f, 0x80, 0x2f, 0x2e]);
      buf[off] = v;
      flips.push(`${off}=${v}`);
      if (inHeader && r() < 0.6) {
        if (b.kind === 'tar' && h + 512 <= buf.length) fixSum(buf.subarray(h, h + 512));
        if (b.kind === 'dump' && h + 1024 <= buf.length) setChecksum(buf.subarray(h, h + 1024), b.order ?? 'be');
      }
    }
    const cut = r() < 0.15 ? int(r, buf.length) : buf.length;
    return { buf: buf.subarray(0, cut), what: `flip ${flips.join(',')}${cut < buf.length ? ` then truncate at ${cut}` : ''}` };
  }
  // Splice: drop or repeat a block (a record for dump).
  const unit = b.kind === 'dump' ? 1024 : 512;
  const blocks = Math.max(1, Math.floor(src.length / unit));
  const i = int(r, blocks);
  const blk = src.subarray(i * unit, (i + 1) * unit);
  if (r() < 0.5) return { buf: Buffer.concat([src.subarray(0, i * unit), src.subarray((i + 1) * unit)]), what: `drop block ${i}` };
  return { buf: Buffer.concat([src.subarray(0, (i + 1) * unit), blk, src.subarray((i + 1) * unit)]), what: `repeat block ${i}` };
}

// ---------------------------------------------------------------- families

interface Family {
  name: string;
  cases: number;
  /** Build case i from its own PRNG. */
  make(r: Rand): { buf: Buffer; what: string } | null;
  skip?: string;
}

const families: Family[] = [];
const tarBases = (['ustar', 'pax', 'gnu'] as Fmt[]).map((f) => [f, base(f)] as const);
const cpioBases = (['newc', 'crc', 'odc', 'bin-le', 'bin-be'] as Fmt[]).map((f) => [f, base(f)] as const);
const dumpBases = [
  ['dump-be', base('dump', 'be')],
  ['dump-le', base('dump', 'le')],
] as const;

families.push({
  name: 'tar',
  cases: 3000,
  make: (r) => {
    const [f, b] = pick(r, tarBases);
    const m = mutate(r, b);
    return { buf: m.buf, what: `${f}: ${m.what}` };
  },
});
families.push({
  name: 'cpio',
  cases: 3000,
  make: (r) => {
    const [f, b] = pick(r, cpioBases);
    const m = mutate(r, b, f !== 'odc');
    return { buf: m.buf, what: `${f}: ${m.what}` };
  },
});
families.push({
  name: 'dump',
  cases: 2000,
  make: (r) => {
    const [f, b] = pick(r, dumpBases);
    const m = mutate(r, b);
    return { buf: m.buf, what: `${f}: ${m.what}` };
  },
});
const flarPayloads = [
  ['newc', base('newc')],
  ['pax', base('pax')],
] as const;
const zPayload = compressZ(encode(ENTRIES, 'newc'));
families.push({
  name: 'flar',
  cases: 2000,
  make: (r) => {
    const which = r();
    if (which < 0.3) {
      // the text part: cookie, sections, identification keys
      const whole = flar(flarPayloads[0][1].buf);
      const at = whole.indexOf('section_begin=archive\n') + 22;
      const buf = Buffer.from(whole);
      const n = 1 + int(r, 3);
      const flips: string[] = [];
      for (let k = 0; k < n; k++) {
        const off = int(r, at);
        buf[off] = r() < 0.5 ? pick(r, [0x0a, 0x3d, 0x00, 0x20, 0x5f]) : int(r, 256);
        flips.push(String(off));
      }
      return { buf: r() < 0.2 ? buf.subarray(0, int(r, buf.length)) : buf, what: `flar text: flip ${flips.join(',')}` };
    }
    if (which < 0.45 && zPayload) {
      const z = Buffer.from(zPayload);
      if (r() < 0.5) z[3 + int(r, z.length - 3)] = int(r, 256);
      const cut = r() < 0.5 ? int(r, z.length) : z.length;
      return { buf: flar(z.subarray(0, cut), { compressed: 'compress' }), what: `flar .Z payload cut at ${cut}` };
    }
    const [f, b] = pick(r, flarPayloads);
    const m = mutate(r, b, true);
    return { buf: flar(m.buf, { method: f === 'pax' ? 'pax' : 'cpio' }), what: `flar ${f} payload: ${m.what}` };
  },
});
families.push({
  name: 'gzip',
  cases: 1500,
  make: (r) => {
    const [f, b] = pick(r, [...tarBases, ...cpioBases]);
    if (r() < 0.65) {
      const m = mutate(r, b, f !== 'odc');
      return { buf: gzip(m.buf, 1), what: `gzip of ${f}: ${m.what}` };
    }
    const z = gzip(b.buf, 1);
    const m = mutate(r, { buf: z, kind: 'cpio', heads: [0] });
    return { buf: m.buf, what: `gzip bytes of ${f}: ${m.what}` };
  },
});
const zBases = [...tarBases.slice(1, 2), ...cpioBases.slice(0, 1), ...cpioBases.slice(2, 3)].map(([f, b]) => [f, b, compressZ(b.buf)] as const);
families.push({
  name: '.Z',
  cases: 1500,
  make: (r) => {
    const [f, b, z] = pick(r, zBases);
    if (r() < 0.6) {
      const m = mutate(r, b, f !== 'odc');
      return { buf: compressZ(m.buf), what: `.Z of ${f}: ${m.what}` };
    }
    const m = mutate(r, { buf: z, kind: 'cpio', heads: [0] });
    return { buf: m.buf, what: `.Z bytes of ${f}: ${m.what}` };
  },
});

// ---------------------------------------------------------------- the runs

const dump = tmpdir('zonep2v-fuzz-failures-');
t.teardown(() => {
  if (fs.readdirSync(dump).length === 0) fs.rmSync(dump, { recursive: true, force: true });
  else t.comment(`failing inputs kept in ${dump}`);
});

families.forEach((fam, fi) => {
  t.test(`fuzz ${fam.name}`, { skip: fam.skip ?? false }, async (t) => {
    const n = Math.max(1, Math.round(fam.cases * SCALE));
    let clean = 0;
    let rejected = 0;
    let viaFs = 0;
    const kinds = new Map<string, number>();
    const failures: string[] = [];
    const started = Date.now();
    for (let i = 0; i < n; i++) {
      if (ONLY && ONLY !== `${fam.name}:${i}`) continue;
      const caseSeed = (SEED ^ Math.imul(fi + 1, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0;
      const r = prng(caseSeed);
      const m = fam.make(r);
      if (!m) continue;
      const lenient = r() < 0.2;
      const chunk = pick(r, [61, 512, 4096, 65536, 65536, 65536]);
      const useFs = i % FS_EVERY === 0;
      const id = `seed=${SEED} case=${fam.name}:${i} (${m.what}${lenient ? ', lenient' : ''}, chunk ${chunk})`;
      let env: ReturnType<typeof setupEnv> | undefined;
      try {
        env = useFs ? setupEnv() : undefined;
        const res = await extract(m.buf, env?.root ?? '/nonexistent', { sink: useFs ? 'fs' : 'null', lenient, chunk, timeoutMs: BOUND_MS });
        const problems: string[] = [];
        if (res.timedOut) problems.push(`no result within ${BOUND_MS} ms (hang)`);
        else if (res.error !== undefined && !(res.error instanceof ArchiveError)) problems.push(`threw a non-ArchiveError: ${String((res.error as Error)?.stack ?? res.error)}`);
        if (env) {
          viaFs++;
          const out = env.outside();
          if (out.length) problems.push(`changed outside the root: ${out.join('; ')}`);
          if (res.error !== undefined && !res.timedOut) {
            if (res.left.length) problems.push(`cleanup left ${res.left.join(', ')}`);
            const left = fs.readdirSync(env.root);
            if (left.length) problems.push(`root not empty after the failure: ${left.join(', ')}`);
          }
        }
        if (res.error instanceof ArchiveError) {
          rejected++;
          kinds.set(res.error.kind, (kinds.get(res.error.kind) ?? 0) + 1);
        } else if (res.error === undefined && !res.timedOut) clean++;
        if (problems.length) {
          const file = path.join(dump, `${fam.name}-${i}.bin`);
          fs.writeFileSync(file, m.buf);
          failures.push(`${id}: ${problems.join(' | ')} [input: ${file}]`);
        }
      } finally {
        env?.cleanup();
      }
      if (failures.length >= 5) break;
    }
    for (const f of failures) t.fail(f);
    t.equal(failures.length, 0, `${fam.name}: no crash, no hang, no escape (seed ${SEED})`);
    t.comment(`${fam.name}: ${n} cases in ${Date.now() - started} ms: ${clean} clean, ${rejected} rejected, ${viaFs} through FsSink; kinds ${JSON.stringify(Object.fromEntries([...kinds].sort((a, b) => b[1] - a[1])))}`);
    if (!ONLY) t.ok(rejected > 0 && clean > 0, 'the mutations reach both outcomes');
  });
});
