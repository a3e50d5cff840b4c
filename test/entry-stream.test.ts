// The synchronous side of entry streams (EntryStream.nextNow): a consumer
// that takes entries with nextNow() whenever it can, and awaits next() only
// when it returns undefined, must see exactly what a plain for-await sees,
// whatever the chunking of the input. Checked on archives written by GNU
// cpio (every variant), GNU tar, bsdtar and dump, through the parsers alone,
// through openArchive, and through fused rule stages that drop, replace
// and route entries by their first character.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import type { Entry, EntryStream } from '../src/entry.js';
import { bufferBody, copyEntry } from '../src/entry.js';
import { ByteReader } from '../src/source/reader.js';
import { parseCpio } from '../src/formats/cpio.js';
import { parseTar } from '../src/formats/tar.js';
import { parseDump } from '../src/formats/dump.js';
import zlib from 'node:zlib';
import { openArchive } from '../src/formats/index.js';
import { makeContext, type ParseFn } from '../src/formats/types.js';
import { runStages, type Stage } from '../src/rules/stage.js';
import { tmpdir } from './lib/tree.js';

const work = tmpdir('zonep2v-entry-stream-');
const root = path.join(work, 'tree');

/** A small tree with what changes a parser's path: sizes around the block sizes, links, long names. */
function makeTree(): void {
  fs.mkdirSync(path.join(root, 'etc/default'), { recursive: true });
  fs.mkdirSync(path.join(root, 'usr/lib/' + 'd'.repeat(90) + '/deeper'), { recursive: true });
  fs.mkdirSync(path.join(root, 'var/sadm/pkg/SUNWcsr'), { recursive: true });
  let k = 0;
  for (const size of [0, 1, 100, 511, 512, 513, 4095, 70000, 140000]) {
    const buf = crypto.createHash('sha512').update(String(size)).digest();
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = buf[i % buf.length]! ^ (i & 0xff);
    fs.writeFileSync(path.join(root, 'usr/lib', `f${k++}-${size}`), data);
  }
  fs.writeFileSync(path.join(root, 'etc/vfstab'), '#device\n/dev/dsk/c0t0d0s0 /dev/rdsk/c0t0d0s0 / ufs 1 no -\n');
  fs.writeFileSync(path.join(root, 'etc/default/init'), 'TZ=US/Pacific\n');
  fs.writeFileSync(path.join(root, 'var/sadm/pkg/SUNWcsr/pkginfo'), 'PKG=SUNWcsr\nVERSION=11.10.0\n');
  fs.writeFileSync(path.join(root, 'usr/lib/' + 'd'.repeat(90) + '/deeper/' + 'n'.repeat(80)), 'long name\n');
  fs.linkSync(path.join(root, 'usr/lib/f4-512'), path.join(root, 'usr/lib/hard-512'));
  fs.linkSync(path.join(root, 'usr/lib/f1-1'), path.join(root, 'etc/hard-1'));
  fs.symlinkSync('../usr/lib/f0-0', path.join(root, 'etc/sym'));
  execFileSync('mkfifo', [path.join(root, 'etc/fifo')]);
}

function cpioArchive(format: string): Buffer {
  return execFileSync('sh', ['-c', `cd '${root}' && find . | sort | cpio -o --quiet -H ${format}`], { maxBuffer: 1 << 26 });
}

function tarArchive(cmd: string): Buffer {
  return execFileSync('sh', ['-c', `cd '${root}' && find . | sort | ${cmd}`], { maxBuffer: 1 << 26 });
}

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

/** What a consumer sees of an entry; every other file's body is read (hashed), the rest skipped. */
async function describe(e: Entry, n: number): Promise<string> {
  let body = '';
  if (e.type === 'file' && n % 2 === 0) {
    const h = crypto.createHash('sha1');
    for await (const c of e.body()) h.update(c);
    body = h.digest('hex');
  }
  return JSON.stringify([e.path, e.type, e.size, e.mode, e.uid, e.mtime, e.linkTarget ?? null, body]);
}

async function viaForAwait(s: AsyncIterable<Entry>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of s) out.push(await describe(e, out.length));
  return out;
}

/** As pipeline/drive does: nextNow() first. Counts the entries it served. */
async function viaNextNow(s: EntryStream): Promise<{ seen: string[]; now: number }> {
  const seen: string[] = [];
  let now = 0;
  for (;;) {
    let e = s.nextNow?.();
    if (e !== undefined) now++;
    else {
      const r = await s.next();
      if (r.done) break;
      e = r.value;
    }
    seen.push(await describe(e, seen.length));
  }
  return { seen, now };
}

/** Stages that drop, replace (rewrite a body) and record, some routed by first character. */
function stages(): Stage[] {
  return [
    { entry: (e, rel) => (rel === 'etc/fifo' ? null : e) },
    {
      firstChars: 'e',
      entry: (e, rel) => {
        if (rel !== 'etc/vfstab' || e.type !== 'file') return e;
        const c = copyEntry(e);
        c.body = bufferBody(Buffer.from('#rewritten\n'));
        c.size = 11;
        return c;
      },
    },
    { firstChars: 'v', entry: (e, rel) => (rel.startsWith('var/sadm/') && e.type === 'file' ? Promise.resolve(e) : e) },
    { firstChars: '', entry: () => null },
  ];
}

/** Name, archive, parser, and the share of entries nextNow() must serve with the whole archive buffered. */
const CASES: [string, () => Buffer, ParseFn, number?][] = [
  ['cpio newc', () => cpioArchive('newc'), parseCpio],
  ['cpio crc', () => cpioArchive('crc'), parseCpio],
  ['cpio odc', () => cpioArchive('odc'), parseCpio],
  ['cpio bin', () => cpioArchive('bin'), parseCpio],
  ['GNU tar pax', () => tarArchive("tar -c --no-recursion --format=pax -T - -f -"), parseTar],
  ['GNU tar gnu', () => tarArchive("tar -c --no-recursion --format=gnu -T - -f -"), parseTar],
  ['bsdtar pax', () => tarArchive("bsdtar -c -n --format=pax -T - -f -"), parseTar],
  // Real dump 0.4b output (samples/dump/make-fixtures.sh), and its byte-swapped twin.
  // Its directories come first, from the directory pass, and its symlinks,
  // devices, sparse files and files with ACLs go the async way: a smaller share.
  ['ufsdump little-endian', () => sampleDump('tree.dump.gz'), parseDump, 0.2],
  ['ufsdump big-endian', () => sampleDump('tree-be.dump.gz'), parseDump, 0.2],
];

function sampleDump(name: string): Buffer {
  return zlib.gunzipSync(fs.readFileSync(new URL(`../../samples/dump/${name}`, import.meta.url)));
}

t.before(makeTree);

for (const [name, make, parse, share = 0.5] of CASES) {
  t.test(name, async (t) => {
    const archive = make();
    const ctx = () => makeContext({ warn: () => {} });
    const want = await viaForAwait(parse(new ByteReader(chunked(archive, 65536)), ctx()));
    t.ok(want.length >= 20, `${want.length} entries`);
    for (const size of [3, 333, 4096, 1 << 20]) {
      const got = await viaNextNow(parse(new ByteReader(chunked(archive, size)), ctx()));
      t.same(got.seen, want, `parser, chunks of ${size}: the same entries`);
      if (size === 1 << 20) t.ok(got.now > want.length * share, `parser: ${got.now} of ${want.length} entries served synchronously`);
    }
    const opened = await viaNextNow(openArchive(chunked(archive, 1 << 20), { warn: () => {} }));
    t.same(opened.seen, want, 'openArchive: the same entries');
    t.ok(opened.now > 0, 'openArchive passes nextNow through');

    const staged = await viaForAwait(runStages(parse(new ByteReader(chunked(archive, 65536)), ctx()), stages()));
    for (const size of [3, 4096, 1 << 20]) {
      const got = await viaNextNow(runStages(parse(new ByteReader(chunked(archive, size)), ctx()), stages()));
      t.same(got.seen, staged, `rule stages, chunks of ${size}: the same entries`);
    }
    t.notOk(staged.some((d) => d.includes('"etc/fifo"') || d.includes('./etc/fifo')), 'the dropped entry is gone');
    if (want.some((d) => d.includes('vfstab'))) {
      t.ok(staged.some((d) => d.includes('vfstab') && d.includes(crypto.createHash('sha1').update('#rewritten\n').digest('hex'))) || staged.some((d) => d.includes('vfstab') && d.includes(',11,')), 'the replaced entry is there');
    }
  });
}

t.test('a failure met by nextNow() is reported by next(), and the reader is closed', async (t) => {
  const archive = cpioArchive('odc');
  const bad = Buffer.from(archive);
  // Corrupt the second header's magic.
  const second = bad.indexOf('070707', 1, 'latin1');
  bad.write('xxxxxx', second, 'latin1');
  let closed = false;
  async function* src(): AsyncGenerator<Buffer> {
    try {
      yield bad;
    } finally {
      closed = true;
    }
  }
  const s = openArchive(src(), { warn: () => {} });
  await t.rejects(viaNextNow(s), /no cpio header magic/);
  t.ok(closed, 'the source was closed');
});
