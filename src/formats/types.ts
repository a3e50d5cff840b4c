// What every container parser shares: its signature, the context it reports
// into, and the identification later stages read (progress, attach, inspect).

import type { Entry, EntryStream } from '../entry.js';
import type { ByteReader } from '../source/reader.js';
import type { Where } from '../errors.js';

export type FormatName =
  | 'flar'
  | 'cpio-bin-le'
  | 'cpio-bin-be'
  | 'cpio-odc'
  | 'cpio-newc'
  | 'cpio-crc'
  | 'tar'
  | 'dump';

export interface Warning extends Where {
  /** Stable class name, e.g. "device-skipped", "leading-slash". */
  kind: string;
  message: string;
}

/** Facts about the archive that later stages read. */
export interface ArchiveInfo {
  /** Compression layers undone, outermost first (e.g. ["gzip"]). */
  compression: string[];
  /** The container format of the entries (for a flar: its payload's). */
  format?: FormatName;
  /** Finer variant: "ustar", "pax", "gnu", "v7", "xustar", "ufsdump-be" ... */
  variant?: string;
  /** Flash archive identification section keys, when the input was a flar. */
  flar?: Record<string, string>;
  /** Expected payload bytes when known (flar files_archived_size, file size). */
  expectedBytes?: number;
  /** What the archive says it unpacks to (flar files_unarchived_size): a hint for the space check only. */
  unpackedBytes?: number;
}

export interface Limits {
  /** Longest path accepted, in bytes. */
  maxPathBytes: number;
  /** Largest metadata header (pax extended header, GNU long name, flar section). */
  maxMetaBytes: number;
  /** Most entries accepted. */
  maxEntries: number;
}

/**
 * Bytes a stored name may exceed maxPathBytes by: a leading `./` or `/`
 * (GNU tar and bsdtar store a 4095-byte path as `./` + 4095) is stripped
 * before the sink applies the limit to the name itself.
 */
export const NAME_PREFIX_SLACK = 64;

export const DEFAULT_LIMITS: Limits = {
  maxPathBytes: 4096,
  maxMetaBytes: 1 << 20,
  maxEntries: 50_000_000,
};

export interface ParseContext {
  info: ArchiveInfo;
  /** Strict by default: malformed input is fatal. Lenient turns named non-escape classes into warnings. */
  lenient: boolean;
  warn(w: Warning): void;
  limits: Limits;
}

/**
 * A parser reads entries from the reader and yields them one at a time. The
 * consumer reads (or ignores) each entry's body before asking for the next;
 * the parser skips whatever was not read. After its end marker a parser reads
 * its input to the end, so that a decompressor's late error surfaces.
 */
export type ParseFn = (r: ByteReader, ctx: ParseContext) => EntryStream;

export function makeContext(partial: Partial<ParseContext> = {}): ParseContext {
  return {
    info: partial.info ?? { compression: [] },
    lenient: partial.lenient ?? false,
    warn: partial.warn ?? (() => {}),
    limits: partial.limits ?? DEFAULT_LIMITS,
  };
}
