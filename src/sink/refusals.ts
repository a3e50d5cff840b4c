// The refusals install's file writer (fs.ts) makes, as functions, so that
// inspect's model of the zone root (inspect/shadow-tree.ts) refuses the same
// entries with the same words and the same --limit hints.

import { bodyLength, displayPath, type Entry } from '../entry.js';
import { ArchiveError, raiseLimit, type Where } from '../errors.js';

/** A uid or gid a file can have (0xffffffff is "no change" to chown). */
export function isId(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xfffffffe;
}

/** What every entry must pass before its type is looked at: the root, a trailing '/', its owner. */
export function checkEntry(e: Entry, key: string, trailingSlash: boolean, where: Where): void {
  if (key === '' && e.type !== 'dir') throw new ArchiveError('unsafe-path', `a ${e.type} entry cannot replace the extraction root`, where, 'the archive is corrupt or hostile');
  if (trailingSlash && e.type !== 'dir') throw new ArchiveError('trailing-slash', `a ${e.type} entry has a name ending in '/'`, where);
}

export function checkOwner(e: Entry, where: Where): void {
  if (!isId(e.uid) || !isId(e.gid)) throw new ArchiveError('bad-owner', `owner ${e.uid}:${e.gid} is out of range`, where, 'uids and gids must be 0..4294967294');
}

/** A sparse map in order, without overlaps, within the file. */
export function checkSparse(e: Entry, where: Where): void {
  let end = 0;
  for (const r of e.sparse ?? []) {
    if (!Number.isSafeInteger(r.offset) || !Number.isSafeInteger(r.length) || r.offset < end || r.length < 0 || r.offset + r.length > e.size) {
      throw new ArchiveError('bad-sparse', `sparse region ${r.offset}+${r.length} overlaps, is out of order or passes the file size ${e.size}`, where);
    }
    end = r.offset + r.length;
  }
}

export function capBytes(len: number, max: number, where: Where): ArchiveError {
  return new ArchiveError('cap-bytes', `writing ${len} more bytes would pass the limit of ${max} bytes for this run`, where, 'the archive holds more data than --limit bytes allows: raise it if the archive is genuine');
}

export function capLinks(bytes: number, max: number, where: Where): ArchiveError {
  return new ArchiveError('cap-links', `the symbolic links so far have ${bytes} bytes of targets, over the limit of ${max} bytes`, where, raiseLimit('link-targets', max));
}

export function capHeld(max: number, where: Where): ArchiveError {
  return new ArchiveError('cap-held', `over ${max} directories and links are waiting for their metadata`, where, raiseLimit('held', max));
}

/** A parent that is one of this run's symbolic links (or its placeholder). */
export function throughLink(key: string, where: Where): ArchiveError {
  return new ArchiveError('through-symlink', `the path goes through the symbolic link ${displayPath(key)}`, where, 'nothing is written through a link');
}

/** The bytes a regular file's body holds (its data regions when sparse), checked. */
export function fileLength(e: Entry, where: Where): number {
  const len = bodyLength(e);
  if (!Number.isSafeInteger(e.size) || e.size < 0 || !Number.isSafeInteger(len) || len < 0) throw new ArchiveError('bad-size', `size ${e.size} is not a valid file size`, where);
  return len;
}
