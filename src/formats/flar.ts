// Solaris flash archive: a cookie line, text sections, then from the byte
// after "section_begin=archive\n" to the end of input the files payload (cpio
// or pax, possibly compress(1)ed). reference/formats.md section 4,
// solaris-p2v.md section 2.6, security.md E14.
//
// Rules kept from the zone installer (install_flar) and the Solaris installer:
// - cookie FlAsH-aRcHiVe-<major>.<minor>, major 1 or 2;
// - identification comes first; every section but "archive" ends with its
//   section_end line; a section_begin inside a section is corrupt;
// - the cookie and section lines are compared without leading or trailing
//   blanks, which install_flar's `read` strips (a hand-edited header);
// - identification keys are matched case-insensitively; a line without "="
//   continues the previous value (multi-line content_description);
// - a rootpool= key means a ZFS send stream: refused with Solaris's message;
// - files_archived_method cpio (or absent) | pax; files_compressed_method
//   none (or absent) | compress; anything else is refused.
// The payload's container is then detected from its bytes (it must agree
// with the declared method, else a warning) and handed to the cpio or tar
// parser, which reads its input to the end.

import type { Entry } from '../entry.js';
import { ArchiveError, TruncatedError, raiseLimit } from '../errors.js';
import { ByteReader } from '../source/reader.js';
import * as decode from '../decode/index.js';
import { detectFormat } from './detect.js';
import { parseCpio } from './cpio.js';
import type { ParseContext, ParseFn } from './types.js';

type DecodeWith = (kind: 'compress', src: AsyncIterable<Buffer>, opts?: { signal?: AbortSignal }) => AsyncIterable<Buffer>;

/** decodeWith from the decode stage (looked up at run time: see the note in the report). */
function decodeWith(): DecodeWith {
  const fn = (decode as unknown as { decodeWith?: DecodeWith }).decodeWith;
  if (typeof fn !== 'function') throw new ArchiveError('unsupported', 'this build cannot decode a compress(1)ed flash archive payload');
  return fn;
}

const KNOWN_SECTIONS = new Set(['identification', 'manifest', 'predeployment', 'postdeployment', 'reboot', 'summary']);
const ZFS_MESSAGE = 'Flash archive contains a ZFS send stream. Recreate the flar using the -L option with cpio or pax.';

const corrupt = (msg: string, offset: number) =>
  new ArchiveError('flar-corrupt', `Flash archive is a corrupt: ${msg}`, { offset }, 'recreate the archive with flarcreate');

/** A line as ksh's `read -r` gives it: leading and trailing blanks (default IFS) removed. */
const unblank = (l: string) => l.replace(/^[ \t]+|[ \t]+$/g, '');

/** One "\n"-terminated line (without the "\n"), at most `max` bytes; null at end of input. */
async function readLine(r: ByteReader, max: number): Promise<string | null> {
  let n = 256;
  for (;;) {
    const b = await r.peek(n);
    const i = b.indexOf(10);
    if (i >= 0 && i <= max) {
      const line = b.toString('latin1', 0, i);
      await r.skip(i + 1);
      return line;
    }
    if (i > max || b.length > max) throw new ArchiveError('flar-line-too-long', `a flash archive header line is over ${max} bytes`, { offset: r.position });
    if (b.length < n) {
      if (b.length === 0) return null;
      throw new TruncatedError('flash archive header line not terminated before the end of input', { offset: r.position });
    }
    n = Math.min(n * 4, max + 1);
  }
}

/** The rest of the reader's input as chunks (the flar payload). */
async function* rest(r: ByteReader): AsyncGenerator<Buffer> {
  for (;;) {
    const c = await r.readSome(1 << 20);
    if (c.length === 0) return;
    yield c;
  }
}

export interface FlarHeader {
  major: number;
  minor: number;
  /** Identification keys (lower case) and values. */
  ident: Record<string, string>;
  /** Names of the sections met before the archive section, in order. */
  sections: string[];
}

/** Read the cookie and the sections up to and including "section_begin=archive". */
export async function readFlarHeader(r: ByteReader, ctx: ParseContext): Promise<FlarHeader> {
  const max = ctx.limits.maxMetaBytes;
  const cookieAt = r.position;
  const cookie = await readLine(r, Math.min(max, 4096)).catch((e: unknown) => {
    if (e instanceof ArchiveError) throw new ArchiveError('not-flar', 'Input is not a flash archive', { offset: cookieAt });
    throw e;
  });
  const m = cookie === null ? null : /^FlAsH-aRcHiVe-([0-9]+)\.([0-9]+)(\..*)?$/.exec(unblank(cookie));
  if (!m) {
    // A CR before the newline: the flar went through a text-mode copy, which damaged its payload too.
    const crlf = cookie !== null && cookie.endsWith('\r') && cookie.startsWith('FlAsH-aRcHiVe-');
    throw new ArchiveError('not-flar', 'Input is not a flash archive', { offset: cookieAt }, crlf ? 'its lines end in CR LF: it was copied in text mode (ASCII ftp, unix2dos); copy the original again in binary mode' : undefined);
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major < 1 || major > 2) {
    throw new ArchiveError('flar-version', `flash archive version ${major}.${minor} is not supported`, { offset: cookieAt }, 'zonep2v reads flash archive versions 1.x and 2.x');
  }

  const ident: Record<string, string> = {};
  const sections: string[] = [];
  for (;;) {
    const at = r.position;
    const raw = await readLine(r, max);
    if (raw === null) throw corrupt('no archive section before the end of input', at);
    const line = unblank(raw);
    if (!line.startsWith('section_begin=')) throw corrupt(`expected a section_begin line, found ${JSON.stringify(line.slice(0, 80))}`, at);
    const name = line.slice('section_begin='.length);
    if (name === 'archive') {
      if (sections[0] !== 'identification') throw corrupt('no identification section', at);
      break;
    }
    if (sections.length === 0 && name !== 'identification') throw corrupt(`the first section is ${JSON.stringify(name)}, not identification`, at);
    if (sections.includes(name)) throw corrupt(`section ${JSON.stringify(name)} appears twice`, at);
    if (!KNOWN_SECTIONS.has(name) && !name.startsWith('X')) {
      ctx.warn({ kind: 'flar-unknown-section', message: `unknown flash archive section ${JSON.stringify(name)} skipped`, offset: at });
    }
    sections.push(name);
    let size = 0;
    let lastKey: string | null = null;
    for (;;) {
      const lat = r.position;
      const l = await readLine(r, max);
      if (l === null) throw corrupt(`section ${JSON.stringify(name)} is not terminated before the end of input`, lat);
      size += l.length + 1;
      if (size > max) throw new ArchiveError('flar-section-too-large', `flash archive section ${JSON.stringify(name)} is over ${max} bytes`, { offset: at }, raiseLimit('meta', max));
      const marker = unblank(l);
      if (marker === `section_end=${name}`) break;
      if (marker.startsWith('section_begin=') || marker.startsWith('section_end=')) throw corrupt(`${JSON.stringify(l)} inside section ${JSON.stringify(name)}`, lat);
      if (name !== 'identification') continue;
      const eq = l.indexOf('=');
      if (eq < 0) {
        // A continuation line (content_description may span lines).
        if (lastKey !== null) ident[lastKey] += `\n${l}`;
        else if (l.trim() !== '') throw corrupt(`identification line without "=": ${JSON.stringify(l.slice(0, 80))}`, lat);
        continue;
      }
      const key = l.slice(0, eq).trim().toLowerCase();
      const value = l.slice(eq + 1);
      lastKey = key;
      if (key in ident) ident[key] += `\n${value}`;
      else ident[key] = value;
    }
  }
  return { major, minor, ident, sections };
}

export const parseFlar: ParseFn = async function* (r, ctx): AsyncGenerator<Entry> {
  const hdr = await readFlarHeader(r, ctx);
  const id = hdr.ident;
  ctx.info.flar = { ...id };
  ctx.info.variant = 'flar';
  const payloadAt = r.position;

  if (Object.keys(id).some((k) => k === 'rootpool' || k.startsWith('rootpool'))) {
    throw new ArchiveError('flar-zfs', ZFS_MESSAGE, { offset: payloadAt });
  }
  const method = (id['files_archived_method'] ?? '').trim().toLowerCase();
  if (method === 'zfs' || method.includes('zfs')) throw new ArchiveError('flar-zfs', ZFS_MESSAGE, { offset: payloadAt });
  if (method !== '' && method !== 'cpio' && method !== 'pax') {
    throw new ArchiveError('flar-archiver', `Archiver ${id['files_archived_method']!.trim()} is not supported`, { offset: payloadAt }, 'zonep2v reads flash archives whose files_archived_method is cpio or pax');
  }
  const comp = (id['files_compressed_method'] ?? '').trim().toLowerCase();
  if (comp !== '' && comp !== 'none' && comp !== 'compress') {
    throw new ArchiveError('flar-compression', `files_compressed_method ${id['files_compressed_method']!.trim()} is not supported`, { offset: payloadAt }, 'a flash archive payload is either not compressed or compressed with compress(1)');
  }
  const sizeText = id['files_archived_size']?.trim();
  if (sizeText !== undefined) {
    if (/^[0-9]{1,15}$/.test(sizeText)) ctx.info.expectedBytes = Number(sizeText);
    else ctx.warn({ kind: 'flar-bad-size', message: `files_archived_size ${JSON.stringify(sizeText.slice(0, 40))} ignored`, offset: payloadAt });
  }
  const unpacked = id['files_unarchived_size']?.trim();
  if (unpacked !== undefined && /^[0-9]{1,15}$/.test(unpacked)) ctx.info.unpackedBytes = Number(unpacked);

  let compressed = comp === 'compress';
  const head0 = await r.peek(3);
  if (head0.length === 0) throw new ArchiveError('flar-empty', 'the flash archive has no files in its archive section', { offset: payloadAt });
  const looksZ = head0[0] === 0x1f && head0[1] === 0x9d;
  if (compressed !== looksZ) {
    ctx.warn({
      kind: 'flar-compression-mismatch',
      message: compressed ? 'files_compressed_method=compress but the payload is not compress(1) data: read as is' : 'the payload is compress(1) data although files_compressed_method does not say so: decompressed',
      offset: payloadAt,
    });
    compressed = looksZ;
  }

  let inner = r;
  if (compressed) {
    inner = new ByteReader(decodeWith()('compress', rest(r)));
    ctx.info.compression.push('compress');
  }
  try {
    const head = await inner.peek(1024);
    if (head.length === 0) throw new ArchiveError('flar-empty', 'the flash archive payload is empty', { offset: payloadAt });
    const format = detectFormat(head);
    const want = method === 'pax' ? 'tar' : 'cpio';
    if (format === null || format === 'flar' || format === 'dump') {
      throw new ArchiveError('flar-payload', `the flash archive payload is ${format === null ? 'not a cpio or pax archive' : `a ${format} stream`}`, { offset: payloadAt }, 'a flash archive carries a cpio or pax archive');
    }
    const kind = format === 'tar' ? 'tar' : 'cpio';
    if (kind !== want) {
      ctx.warn({ kind: 'flar-method-mismatch', message: `files_archived_method says ${method || 'cpio'} but the payload is ${kind}: read as ${kind}`, offset: payloadAt });
    }
    ctx.info.format = format;
    yield* (kind === 'tar' ? (await import('./tar.js')).parseTar : parseCpio)(inner, ctx);
    // The inner parser read its input to the end; make sure the flar's did too.
    await inner.drain();
    if (inner !== r) await r.drain();
  } finally {
    if (inner !== r) await inner.close();
  }
};
