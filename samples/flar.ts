// A Solaris flash archive (flar) writer, laid out as flarcreate(1M) does
// (formats.md section 4, solaris-p2v.md section 2.6):
//
//   FlAsH-aRcHiVe-2.0
//   section_begin=identification
//   key=value ...                      (lower-case keys, flarcreate's order)
//   section_end=identification
//   section_begin=predeployment ... section_end=predeployment   (uuencoded .Z cpio)
//   section_begin=postdeployment ... / reboot ... / summary ...
//   [section_begin=X-user ... section_end=X-user]
//   section_begin=archive
//   <payload: cpio or pax, optionally compress(1)ed> ... EOF
//
// The archive section is last and has no section_end: the payload runs to the
// end of the file (both references agree; no real flar ends with one).

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { pipeline } from 'node:stream/promises';

export const FLAR_COOKIE = 'FlAsH-aRcHiVe-2.0';

export interface FlarOptions {
  /** files_archived_method: what the payload is. */
  method: 'cpio' | 'pax';
  /** Run compress(1) over the payload and say files_compressed_method=compress. */
  compressed?: boolean;
  /** content_name (required by flarcreate -n). */
  name: string;
  /** creation_node and creation_master (default: name). */
  node?: string;
  master?: string;
  /** creation_date (default: now), written as YYYYMMDDhhmmss in GMT. */
  date?: Date | number;
  /** files_unarchived_size: bytes once extracted (default: the uncompressed payload size). */
  unarchivedSize?: number;
  /** Target architecture; sets the creation_* machine keys. */
  arch?: 'sparc' | 'i386';
  /** creation_os_version (default Generic_141444-09 / Generic_141445-09). */
  osVersion?: string;
  content_description?: string;
  content_author?: string;
  /** Leave out archive_id (flarcreate -H). */
  noHash?: boolean;
  /** Write the predeployment/postdeployment/reboot/summary sections flarcreate adds (default true). */
  deploymentSections?: boolean;
  /** User sections: name (must start with X) -> text lines. */
  userSections?: Record<string, string[]>;
  /** Extra identification keys, appended before `type` (e.g. X-site=...). */
  extra?: Record<string, string>;
}

export interface FlarInfo {
  path: string;
  /** Byte offset of the payload (just after `section_begin=archive\n`). */
  archiveOffset: number;
  /** Bytes of the archive section as stored (compressed when compressed). */
  archivedSize: number;
  identification: Record<string, string>;
}

function gmtStamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** Historical uuencode (backquote for zero), as uuencode(1C) writes it. */
export function uuencode(data: Buffer, name: string, mode = 0o644): string {
  const enc = (v: number) => (v === 0 ? '`' : String.fromCharCode(32 + v));
  const lines = [`begin ${mode.toString(8)} ${name}`];
  for (let i = 0; i < data.length; i += 45) {
    const chunk = data.subarray(i, i + 45);
    let line = enc(chunk.length);
    for (let j = 0; j < chunk.length; j += 3) {
      const a = chunk[j]!;
      const b = chunk[j + 1] ?? 0;
      const c = chunk[j + 2] ?? 0;
      line += enc(a >> 2) + enc(((a << 4) | (b >> 4)) & 63) + enc(((b << 2) | (c >> 6)) & 63) + enc(c & 63);
    }
    lines.push(line);
  }
  lines.push('`', 'end');
  return lines.join('\n');
}

/** A newc (`cpio -c` on Solaris) archive of one empty directory: what flarcreate packs for an empty script dir. */
function emptyDirCpio(name: string, mtime: number): Buffer {
  const hdr = (n: string, mode: number, nlink: number, ino: number) => {
    const nameBytes = Buffer.from(`${n}\0`, 'latin1');
    const h = Buffer.from(
      '070701' + [ino, mode, 0, 3, nlink, mtime, 0, 0, 0, 0, 0, nameBytes.length, 0].map((v) => (v >>> 0).toString(16).toUpperCase().padStart(8, '0')).join(''),
      'latin1',
    );
    const padLen = (4 - ((h.length + nameBytes.length) % 4)) % 4;
    return Buffer.concat([h, nameBytes, Buffer.alloc(padLen)]);
  };
  const body = Buffer.concat([hdr(name, 0o40755, 2, 1), hdr('TRAILER!!!', 0, 1, 0)]);
  return Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

function compressBuffer(buf: Buffer): Buffer {
  const r = spawnSync('compress', ['-c', '-f'], { input: buf, maxBuffer: 64 << 20 });
  if (r.error || (r.status !== 0 && r.status !== 2)) throw new Error(`compress failed: ${r.error?.message ?? r.stderr.toString()}`);
  return r.stdout;
}

async function compressFile(src: string, dst: string): Promise<void> {
  const out = fs.openSync(dst, 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const p = spawn('compress', ['-c', '-f'], { stdio: [fs.openSync(src, 'r'), out, 'pipe'] });
      let err = '';
      p.stderr!.on('data', (d) => (err += d));
      p.on('error', reject);
      p.on('close', (code) => (code === 0 || code === 2 ? resolve() : reject(new Error(`compress exited ${code}: ${err}`))));
    });
  } finally {
    fs.closeSync(out);
  }
}

async function md5File(p: string): Promise<string> {
  const h = crypto.createHash('md5');
  await pipeline(fs.createReadStream(p), h);
  return h.digest('hex');
}

/**
 * Write `outPath` as a flash archive whose archive section is the file
 * `payloadPath` (compressed on the way when `opts.compressed`).
 */
export async function writeFlar(payloadPath: string, outPath: string, opts: FlarOptions): Promise<FlarInfo> {
  const arch = opts.arch ?? 'sparc';
  const date = opts.date instanceof Date ? opts.date : new Date(opts.date ?? Date.now());
  const rawSize = fs.statSync(payloadPath).size;
  let section = payloadPath;
  let tmp: string | undefined;
  if (opts.compressed) {
    tmp = path.join(path.dirname(outPath), `.${path.basename(outPath)}.payload.Z.tmp`);
    await compressFile(payloadPath, tmp);
    section = tmp;
  }
  try {
    const archivedSize = fs.statSync(section).size;
    const id: [string, string][] = [];
    if (!opts.noHash) id.push(['archive_id', await md5File(section)]);
    const node = opts.node ?? opts.name;
    id.push(
      ['files_archived_method', opts.method],
      ['creation_date', gmtStamp(date)],
      ['creation_master', opts.master ?? node],
      ['content_name', opts.name],
      ['creation_node', node],
      ['creation_hardware_class', arch === 'sparc' ? 'sun4u' : 'i86pc'],
      ['creation_platform', arch === 'sparc' ? 'SUNW,Sun-Fire-V240' : 'i86pc'],
      ['creation_processor', arch === 'sparc' ? 'sparc' : 'i386'],
      ['creation_release', '5.10'],
      ['creation_os_name', 'SunOS'],
      ['creation_os_version', opts.osVersion ?? (arch === 'sparc' ? 'Generic_141444-09' : 'Generic_141445-09')],
      ['files_compressed_method', opts.compressed ? 'compress' : 'none'],
      ['files_archived_size', String(archivedSize)],
      ['files_unarchived_size', String(opts.unarchivedSize ?? rawSize)],
    );
    if (opts.content_description) id.push(['content_description', opts.content_description]);
    if (opts.content_author) id.push(['content_author', opts.content_author]);
    id.push(['content_architectures', arch === 'sparc' ? 'sun4u' : 'i86pc']);
    for (const [k, v] of Object.entries(opts.extra ?? {})) id.push([k, v]);
    id.push(['type', 'FULL']);

    const lines: string[] = [FLAR_COOKIE, 'section_begin=identification', ...id.map(([k, v]) => `${k}=${v}`), 'section_end=identification'];
    if (opts.deploymentSections ?? true) {
      const t = Math.floor(date.getTime() / 1000);
      for (const s of ['predeployment', 'postdeployment', 'reboot']) {
        lines.push(`section_begin=${s}`, uuencode(compressBuffer(emptyDirCpio(s, t)), `${s}.cpio.Z`), `section_end=${s}`);
      }
      lines.push(
        'section_begin=summary',
        'Full Flash',
        'Checking integrity...',
        'Integrity OK.',
        'Running precreation scripts...',
        'Precreation scripts done.',
        'Determining the size of the archive...',
        `The archive will be approximately ${(archivedSize / 1048576).toFixed(2)}MB.`,
        'Creating the archive...',
        'Archive creation complete.',
        'Running postcreation scripts...',
        'Postcreation scripts done.',
        '',
        'Running pre-exit scripts...',
        'Pre-exit scripts done.',
        'section_end=summary',
      );
    }
    for (const [name, body] of Object.entries(opts.userSections ?? {})) {
      if (!/^X[^\n=\0/]*$/.test(name)) throw new Error(`flar user section names start with X and contain no newline, '=', NUL or '/': ${name}`);
      lines.push(`section_begin=${name}`, ...body, `section_end=${name}`);
    }
    lines.push('section_begin=archive');
    const header = Buffer.from(lines.join('\n') + '\n', 'latin1');
    fs.writeFileSync(outPath, header);
    await pipeline(fs.createReadStream(section), fs.createWriteStream(outPath, { flags: 'a' }));
    return { path: outPath, archiveOffset: header.length, archivedSize, identification: Object.fromEntries(id) };
  } finally {
    if (tmp) fs.rmSync(tmp, { force: true });
  }
}

/** Read a flar's text part (up to the archive section): cookie, identification and section names. */
export function readFlarHeader(file: string, max = 1 << 20): { cookie: string; identification: Record<string, string>; sections: string[]; archiveOffset: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(max);
    const n = fs.readSync(fd, buf, 0, max, 0);
    const text = buf.subarray(0, n).toString('latin1');
    const marker = '\nsection_begin=archive\n';
    const end = text.indexOf(marker);
    if (end < 0) throw new Error(`${file}: no archive section in the first ${max} bytes`);
    const lines = text.slice(0, end).split('\n');
    const identification: Record<string, string> = {};
    const sections: string[] = [];
    let cur: string | undefined;
    for (const l of lines.slice(1)) {
      if (l.startsWith('section_begin=')) sections.push((cur = l.slice(14)));
      else if (l.startsWith('section_end=')) cur = undefined;
      else if (cur === 'identification') {
        const i = l.indexOf('=');
        if (i > 0) identification[l.slice(0, i)] = l.slice(i + 1);
      }
    }
    sections.push('archive');
    return { cookie: lines[0]!, identification, sections, archiveOffset: end + marker.length };
  } finally {
    fs.closeSync(fd);
  }
}
