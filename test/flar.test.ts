// Flash archives: sections as flarcreate writes them, then a cpio (odc, newc,
// crc) or pax payload, optionally compress(1)ed; the entries must be those of
// the bare payload. Malformed headers fail with the Solaris wording.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import type { Entry } from '../src/entry.js';
import { ArchiveError, TruncatedError } from '../src/errors.js';
import { ByteReader } from '../src/source/reader.js';
import { parseFlar } from '../src/formats/flar.js';
import { parseCpio } from '../src/formats/cpio.js';
import { parseTar } from '../src/formats/tar.js';
import { openArchive } from '../src/formats/index.js';
import * as decode from '../src/decode/index.js';
import { makeContext, DEFAULT_LIMITS, type ArchiveInfo, type Limits, type ParseFn, type Warning } from '../src/formats/types.js';
import { tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';

interface Row {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  link: string | null;
  sha: string | null;
  offset: number;
}

async function* chunked(buf: Buffer, size = 8191): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function rows(entries: AsyncIterable<Entry>): Promise<Row[]> {
  const out: Row[] = [];
  for await (const e of entries) {
    let sha: string | null = null;
    if (e.type === 'file') {
      const h = crypto.createHash('sha256');
      for await (const c of e.body()) h.update(c);
      sha = h.digest('hex');
    }
    out.push({ path: e.path, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, size: e.size, link: e.linkTarget ?? null, sha, offset: e.offset });
  }
  return out;
}

interface Run {
  rows: Row[];
  info: ArchiveInfo;
  warnings: Warning[];
}

async function run(fn: ParseFn, buf: Buffer, limits: Partial<Limits> = {}): Promise<Run> {
  const warnings: Warning[] = [];
  const ctx = makeContext({ limits: { ...DEFAULT_LIMITS, ...limits }, warn: (w) => warnings.push(w) });
  const r = new ByteReader(chunked(buf));
  let timer: NodeJS.Timeout | undefined;
  try {
    const got = await Promise.race([rows(fn(r, ctx)), new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error('timeout: the parser hung')), 15000)))]);
    return { rows: got, info: ctx.info, warnings };
  } finally {
    clearTimeout(timer);
  }
}

async function failure(buf: Buffer, limits: Partial<Limits> = {}): Promise<ArchiveError> {
  try {
    await run(parseFlar, buf, limits);
  } catch (e) {
    if (e instanceof ArchiveError) return e;
    throw e;
  }
  throw new Error('expected the flar to be rejected');
}

const stripOffsets = (rs: Row[]) => rs.map(({ offset: _o, ...r }) => r);

// -------------------------------------------------------------- fixtures

function buildTree(t: { teardown(fn: () => void): void }): { root: string; names: string[] } {
  const base = tmpdir('zonep2v-flar-');
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, 'root');
  const names: string[] = [];
  const mk = (rel: string, fn: (p: string) => void) => {
    fn(path.join(root, rel));
    names.push(rel);
  };
  fs.mkdirSync(root);
  for (const d of ['etc', 'etc/inet', 'usr', 'usr/bin', 'var', 'var/tmp']) mk(d, (p) => fs.mkdirSync(p));
  fs.chmodSync(path.join(root, 'var/tmp'), 0o1777);
  mk('etc/vfstab', (p) => fs.writeFileSync(p, '#device\tdevice\tmount\n/proc\t-\t/proc\tproc\t-\tno\t-\n'));
  mk('etc/inet/hosts', (p) => fs.writeFileSync(p, '127.0.0.1 localhost\n'));
  mk('etc/hosts', (p) => fs.symlinkSync('./inet/hosts', p));
  mk('usr/bin/ls', (p) => fs.writeFileSync(p, crypto.randomBytes(70000)));
  mk('usr/bin/dir', (p) => fs.linkSync(path.join(root, 'usr/bin/ls'), p));
  mk('usr/bin/su', (p) => {
    fs.writeFileSync(p, crypto.randomBytes(3000));
    fs.chmodSync(p, 0o4555);
  });
  mk('var/tmp/empty', (p) => fs.writeFileSync(p, ''));
  fs.lchownSync(path.join(root, 'usr/bin/ls'), 2, 2);
  return { root, names };
}

function cpioPayload(fx: { root: string; names: string[] }, fmt: string): Buffer {
  return execFileSync('cpio', ['-o', '--quiet', '-H', fmt], { cwd: fx.root, input: fx.names.join('\n') + '\n', maxBuffer: 1 << 26 });
}

/** The text sections flarcreate writes before the payload. */
function flarHeader(payload: Buffer, o: { method?: string | null; compress?: string | null; unarchived?: number; extra?: string[]; cookie?: string } = {}): string {
  const id: string[] = [
    `archive_id=${crypto.createHash('md5').update(payload).digest('hex')}`,
    ...(o.method === null ? [] : [`files_archived_method=${o.method ?? 'cpio'}`]),
    'creation_date=20261127061700',
    'creation_master=legacy01',
    'content_name=legacy01 web server',
    'content_description=Web tier, cloned from legacy01',
    'before the zone migration',
    'creation_node=legacy01',
    'creation_hardware_class=sun4u',
    'creation_platform=SUNW,Sun-Fire-V240',
    'creation_processor=sparc',
    'creation_release=5.10',
    'creation_os_name=SunOS',
    'creation_os_version=Generic_150400-40',
    ...(o.compress === null ? [] : [`files_compressed_method=${o.compress ?? 'none'}`]),
    `files_archived_size=${payload.length}`,
    `files_unarchived_size=${o.unarchived ?? 123456}`,
    'content_architectures=sun4u',
    'type=FULL',
    ...(o.extra ?? []),
  ];
  const uu = Array.from({ length: 6 }, () => 'M' + crypto.randomBytes(45).toString('base64').slice(0, 60));
  return [
    o.cookie ?? 'FlAsH-aRcHiVe-2.0',
    'section_begin=identification',
    ...id,
    'section_end=identification',
    'section_begin=predeployment',
    'begin 755 predeployment.cpio.Z',
    ...uu,
    'end',
    'section_end=predeployment',
    'section_begin=postdeployment',
    'section_end=postdeployment',
    'section_begin=reboot',
    'section_end=reboot',
    'section_begin=X-site',
    'owner=ops team',
    'section_end=X-site',
    'section_begin=summary',
    'cookie = FlAsH-aRcHiVe-2.0',
    'archive_method: cpio',
    'section_end=summary',
    'section_begin=archive',
    '',
  ].join('\n');
}

const flar = (text: string, payload: Buffer) => Buffer.concat([Buffer.from(text, 'latin1'), payload]);
const decodeWith = (decode as unknown as { decodeWith?: unknown }).decodeWith;
const HAVE_COMPRESS = spawnSync('compress', ['-V'], { stdio: 'ignore' }).error === undefined;

// ----------------------------------------------------------------- tests

t.test('flar with a cpio payload lists as its payload', async (t) => {
  const fx = buildTree(t);
  for (const fmt of ['odc', 'newc', 'crc']) {
    await t.test(`cpio -H ${fmt}`, async (t) => {
      const payload = cpioPayload(fx, fmt);
      const text = flarHeader(payload);
      const f = flar(text, payload);
      const bare = await run(parseCpio, payload);
      const got = await run(parseFlar, f);
      t.same(stripOffsets(got.rows), stripOffsets(bare.rows), 'same entries, types, modes, owners, times, sizes, links, contents');
      t.same(got.rows.map((r) => r.offset), bare.rows.map((r) => r.offset + text.length), 'the payload starts right after the section_begin=archive line');
      t.equal(got.info.format, `cpio-${fmt}`);
      t.equal(got.info.variant, 'flar');
      t.equal(got.info.expectedBytes, payload.length, 'expectedBytes from files_archived_size');
      t.equal(got.info.flar?.['content_name'], 'legacy01 web server');
      t.equal(got.info.flar?.['content_description'], 'Web tier, cloned from legacy01\nbefore the zone migration', 'continuation line');
      t.equal(got.info.flar?.['creation_os_version'], 'Generic_150400-40');
      t.same(got.warnings, [], 'no warnings (user sections and known sections are skipped quietly)');
      t.ok(got.rows.some((r) => r.type === 'hardlink' && ['usr/bin/dir', 'usr/bin/ls'].includes(r.path)), 'hard links resolved');
      // Top-level detection and dispatch.
      const warnings: Warning[] = [];
      const info: ArchiveInfo = { compression: [] };
      const top = await rows(openArchive(chunked(f), { info, warn: (w) => warnings.push(w) }));
      t.same(stripOffsets(top), stripOffsets(bare.rows), 'openArchive detects the flar');
      t.equal(info.format, `cpio-${fmt}`);
    });
  }
});

t.test('flar without files_archived_method or files_compressed_method (defaults), version 1.0, keys in any case', async (t) => {
  const fx = buildTree(t);
  const payload = cpioPayload(fx, 'newc');
  const text = flarHeader(payload, { method: null, compress: null, cookie: 'FlAsH-aRcHiVe-1.0' }).replace('content_name=', 'Content_Name=');
  const got = await run(parseFlar, flar(text, payload));
  t.equal(got.rows.length, fx.names.length);
  t.equal(got.info.flar?.['content_name'], 'legacy01 web server');
});

t.test('compressed payload (files_compressed_method=compress)', { skip: !HAVE_COMPRESS ? 'compress(1) not installed' : typeof decodeWith !== 'function' ? 'the decode stage does not export decodeWith yet' : false }, async (t) => {
  const fx = buildTree(t);
  const payload = cpioPayload(fx, 'odc');
  const z = execFileSync('compress', ['-f', '-c'], { input: payload, maxBuffer: 1 << 26 });
  const got = await run(parseFlar, flar(flarHeader(z, { compress: 'compress' }), z));
  const bare = await run(parseCpio, payload);
  t.same(stripOffsets(got.rows), stripOffsets(bare.rows));
  t.same(got.info.compression, ['compress']);
  const cut = flar(flarHeader(z, { compress: 'compress' }), z.subarray(0, z.length >> 1));
  const e = await failure(cut);
  t.ok(e instanceof ArchiveError, `a truncated compressed payload fails: ${e.message}`);
});

async function tarStub(): Promise<boolean> {
  try {
    for await (const _ of parseTar(new ByteReader(chunked(Buffer.alloc(1024))), makeContext())) break;
  } catch (e) {
    return /not implemented/.test(String(e));
  }
  return false;
}

t.test('pax payload (files_archived_method=pax)', { skip: (await tarStub()) ? 'the tar parser is still a stub' : false }, async (t) => {
  const fx = buildTree(t);
  const payload = execFileSync('tar', ['--format=posix', '-cf', '-', '--no-recursion', ...fx.names], { cwd: fx.root, maxBuffer: 1 << 26 });
  const got = await run(parseFlar, flar(flarHeader(payload, { method: 'pax' }), payload));
  t.equal(got.info.format, 'tar');
  t.same(got.rows.map((r) => r.path).sort(), [...fx.names].sort());
});

t.test('declared method and payload disagree: read by magic, with a warning', async (t) => {
  const fx = buildTree(t);
  const payload = cpioPayload(fx, 'odc');
  const got = await run(parseFlar, flar(flarHeader(payload, { method: 'pax' }), payload));
  t.equal(got.rows.length, fx.names.length);
  t.same(got.warnings.map((w) => w.kind), ['flar-method-mismatch']);
  const got2 = await run(parseFlar, flar(flarHeader(payload, { compress: 'compress' }), payload));
  t.equal(got2.rows.length, fx.names.length);
  t.same(got2.warnings.map((w) => w.kind), ['flar-compression-mismatch']);
});

t.test('blanks around the cookie and section lines are ignored, as install_flar\'s `read` strips them', async (t) => {
  const fx = buildTree(t);
  const payload = cpioPayload(fx, 'odc');
  const ok = flarHeader(payload);
  const edited = ok
    .replace('FlAsH-aRcHiVe-2.0\n', 'FlAsH-aRcHiVe-2.0 \n')
    .replace('section_begin=identification\n', '\tsection_begin=identification\n')
    .replace('section_end=identification\n', 'section_end=identification  \n')
    .replace('section_end=summary\n', ' section_end=summary\t\n')
    .replace('section_begin=archive\n', 'section_begin=archive \n');
  t.not(edited, ok, 'the header was edited');
  const got = await run(parseFlar, flar(edited, payload));
  t.equal(got.rows.length, fx.names.length, 'every entry of the payload');
  t.same(got.warnings, []);
});

t.test('rejected flars', async (t) => {
  const fx = buildTree(t);
  const payload = cpioPayload(fx, 'odc');
  const ok = flarHeader(payload);
  const cases: [string, Buffer, string, RegExp?, Partial<Limits>?][] = [
    ['not a cookie', flar(ok.replace('FlAsH-aRcHiVe-2.0', 'FlAsH-ArChIvE-2.0'), payload), 'not-flar', /Input is not a flash archive/],
    ['cookie without a minor', flar(ok.replace('FlAsH-aRcHiVe-2.0', 'FlAsH-aRcHiVe-2'), payload), 'not-flar'],
    ['major version 3', flar(ok.replace('FlAsH-aRcHiVe-2.0', 'FlAsH-aRcHiVe-3.0'), payload), 'flar-version'],
    ['major version 0', flar(ok.replace('FlAsH-aRcHiVe-2.0', 'FlAsH-aRcHiVe-0.9'), payload), 'flar-version'],
    ['identification not first', flar(ok.replace(/section_begin=identification[^]*?section_end=identification\n/, '').replace('section_end=summary\n', 'section_end=summary\nsection_begin=identification\ntype=FULL\nsection_end=identification\n'), payload), 'flar-corrupt', /Flash archive is a corrupt/],
    ['no identification at all', flar('FlAsH-aRcHiVe-2.0\nsection_begin=archive\n', payload), 'flar-corrupt'],
    ['section_begin inside a section', flar(ok.replace('section_end=reboot\n', 'section_begin=summary\n'), payload), 'flar-corrupt'],
    ['garbage between sections', flar(ok.replace('section_begin=reboot\n', 'oops\nsection_begin=reboot\n'), payload), 'flar-corrupt'],
    ['section not terminated', Buffer.from('FlAsH-aRcHiVe-2.0\nsection_begin=identification\ntype=FULL\n'), 'flar-corrupt'],
    ['no archive section', Buffer.from('FlAsH-aRcHiVe-2.0\nsection_begin=identification\ntype=FULL\nsection_end=identification\n'), 'flar-corrupt'],
    ['header line cut before its newline', Buffer.from('FlAsH-aRcHiVe-2.0\nsection_begin=identifica'), 'truncated'],
    ['ZFS send stream (rootpool=)', flar(flarHeader(payload, { extra: ['rootpool=rpool'] }), payload), 'flar-zfs', /Flash archive contains a ZFS send stream\. Recreate the flar using the -L option with cpio or pax\./],
    ['files_archived_method=zfs', flar(flarHeader(payload, { method: 'zfs' }), payload), 'flar-zfs'],
    ['unknown archiver', flar(flarHeader(payload, { method: 'ufsdump' }), payload), 'flar-archiver', /Archiver ufsdump is not supported/],
    ['unknown compression', flar(flarHeader(payload, { compress: 'gzip' }), payload), 'flar-compression'],
    ['empty payload', flar(ok, Buffer.alloc(0)), 'flar-empty'],
    ['payload is not an archive', flar(ok, Buffer.alloc(2048, 0x41)), 'flar-payload'],
    ['payload is a flar', flar(ok, Buffer.from(ok)), 'flar-payload'],
    ['truncated payload', flar(ok, payload.subarray(0, 3000)), 'truncated'],
    ['line over the limit', flar(flarHeader(payload, { extra: [`X-big=${'y'.repeat(5000)}`] }), payload), 'flar-line-too-long', undefined, { maxMetaBytes: 4096 }],
    ['section over the limit', flar(flarHeader(payload, { extra: Array.from({ length: 300 }, (_, i) => `X-k${i}=${'v'.repeat(20)}`) }), payload), 'flar-section-too-large', undefined, { maxMetaBytes: 4096 }],
  ];
  for (const [label, buf, kind, msg, limits] of cases) {
    const e = await failure(buf, limits);
    t.equal(e.kind, kind, `${label}: ${e.message}`);
    if (msg) t.match(e.message, msg, `${label}: message`);
  }
  const e = await failure(flar(ok, payload.subarray(0, 3000)));
  t.ok(e instanceof TruncatedError, 'a truncated payload is a TruncatedError');
  const crlf = await failure(flar(ok.replace(/\n/g, '\r\n'), payload));
  t.equal(crlf.kind, 'not-flar', 'CR LF line ends: not a flash archive');
  t.match(crlf.hint, /CR LF: it was copied in text mode/, 'the hint says why');
});

t.test('what follows the inner trailer', async (t) => {
  const fx = buildTree(t);
  const payload = cpioPayload(fx, 'odc');
  const padded = Buffer.concat([payload, Buffer.alloc(65536)]);
  const got = await run(parseFlar, flar(flarHeader(padded), padded));
  t.same(got.warnings, [], 'tape-block NUL padding after the trailer is quiet');
  const junk = Buffer.concat([payload, Buffer.from('section_end=archive\n')]);
  const got2 = await run(parseFlar, flar(flarHeader(junk), junk));
  t.same(got2.warnings.map((w) => w.kind), ['trailing-garbage'], 'anything else is read to the end with a warning');
});

t.test('files_unarchived_size is a hint for the space check: a warning at the start, not a refusal', async (t) => {
  const fx = buildTree(t);
  const payload = cpioPayload(fx, 'odc');
  const info = (await run(parseFlar, flar(flarHeader(payload, { unarchived: 5000 }), payload))).info;
  t.equal(info.unpackedBytes, 5000);
  const work = tmpdir('zonep2v-flar-size-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const extract = async (unarchived: number, n: string) => {
    const a = path.join(work, `${n}.flar`);
    fs.writeFileSync(a, flar(flarHeader(payload, { unarchived }), payload));
    fs.mkdirSync(path.join(work, n));
    return runCli(['extract', '-a', a, '-C', path.join(work, n)]);
  };
  const huge = await extract(99_999_999_999_999, 'huge');
  t.equal(huge.code, 0, huge.stderr);
  t.match(huge.stderr, /the archive says it unpacks to 99999999999999 bytes, and \d+ bytes are free under the root/);
  t.equal(huge.stderr.match(/unpacks to/g)?.length, 1, 'once');
  t.ok(fs.existsSync(path.join(work, 'huge', fx.names[fx.names.length - 1]!)), 'extracted all the same');
  const fits = await extract(5000, 'fits');
  t.equal(fits.code, 0, fits.stderr);
  t.notMatch(fits.stderr, /unpacks to/);
});
