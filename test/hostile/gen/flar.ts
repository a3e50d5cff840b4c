// Flash archive text part for the hostile corpus (security.md E14): a cookie,
// sections, `section_begin=archive`, then the payload bytes. Every line can
// be replaced to make the malformed variants.

import crypto from 'node:crypto';
import { B } from './tar.js';

export interface FlarText {
  cookie?: string;
  /** files_archived_method (null: leave the key out). */
  method?: string | null;
  /** files_compressed_method (null: leave the key out). */
  compressed?: string | null;
  /** Extra identification lines (raw, "key=value"). */
  ident?: string[];
  /** Sections after identification: name -> lines. */
  sections?: [string, string[]][];
  /** Replace every line before the payload (the cookie included). */
  lines?: string[];
}

/** The identification lines a flarcreate-made archive has (minimal). */
export function identLines(payload: Buffer, o: FlarText = {}): string[] {
  const id = [`archive_id=${crypto.createHash('md5').update(payload).digest('hex')}`];
  if (o.method !== null) id.push(`files_archived_method=${o.method ?? 'cpio'}`);
  id.push('creation_date=20200101000000', 'creation_master=hostile', 'content_name=hostile', 'creation_node=hostile', 'creation_release=5.10', 'creation_os_name=SunOS');
  if (o.compressed !== null) id.push(`files_compressed_method=${o.compressed ?? 'none'}`);
  id.push(`files_archived_size=${payload.length}`, `files_unarchived_size=${payload.length}`, ...(o.ident ?? []), 'type=FULL');
  return id;
}

/** A flash archive around `payload`. */
export function flar(payload: Buffer, o: FlarText = {}): Buffer {
  const lines = o.lines ?? [
    o.cookie ?? 'FlAsH-aRcHiVe-2.0',
    'section_begin=identification',
    ...identLines(payload, o),
    'section_end=identification',
    ...(o.sections ?? []).flatMap(([name, body]) => [`section_begin=${name}`, ...body, `section_end=${name}`]),
    'section_begin=archive',
  ];
  return Buffer.concat([B(`${lines.join('\n')}\n`), payload]);
}
