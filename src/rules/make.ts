// Factories for the entries rules add or rewrite. Added entries carry
// index -1 and offset -1 (they come from p2v, not from the archive) and the
// run's date as mtime.

import { bufferBody, copyEntry, emptyBody, newEntry, readBody, bodyLength, type Entry, type EntryType } from '../entry.js';
import type { RuleContext } from './types.js';

export const ROOT = 0;
export const SYS = 3;

/** Owner and mode of an added entry. */
export interface Perm {
  mode: number;
  uid: number;
  gid: number;
}

/** Copy of an entry with its body replaced (all fields copied explicitly, so class-based entries work). */
export function withBody(e: Entry, buf: Buffer, over: Partial<Perm> & { path?: string } = {}): Entry {
  const c = copyEntry(e);
  if (over.path !== undefined) c.path = over.path;
  if (over.mode !== undefined) c.mode = over.mode;
  if (over.uid !== undefined) c.uid = over.uid;
  if (over.gid !== undefined) c.gid = over.gid;
  c.size = e.type === 'file' ? buf.length : 0;
  c.sparse = undefined;
  c.body = e.type === 'file' ? bufferBody(buf) : emptyBody;
  return c;
}

function added(path: string, type: EntryType, perm: Perm, ctx: RuleContext, buf?: Buffer): Entry {
  const secs = Math.floor(ctx.date.getTime() / 1000);
  return newEntry(path, type, perm.mode & 0o7777, perm.uid, perm.gid, secs, 0, buf ? buf.length : 0, -1, -1, buf ? bufferBody(buf) : emptyBody);
}

export function addedDir(path: string, perm: Perm, ctx: RuleContext): Entry {
  return added(path, 'dir', perm, ctx);
}

export function addedFile(path: string, content: Buffer | string, perm: Perm, ctx: RuleContext): Entry {
  return added(path, 'file', perm, ctx, typeof content === 'string' ? Buffer.from(content, 'latin1') : content);
}

/** Default cap for a file a rule buffers (config files are small). */
export const SMALL_CAP = 1024 * 1024;

/**
 * Read a regular file's body if it is at most `cap` bytes; null (body left
 * unread, so the entry can still pass on) when it is larger.
 */
export async function holdBody(e: Entry, cap = SMALL_CAP): Promise<Buffer | null> {
  if (bodyLength(e) > cap) return null;
  return readBody(e, cap);
}

/** An entry whose body has been read, kept to be emitted later. */
export interface Held {
  entry: Entry;
  buf: Buffer;
}

/**
 * Delete a file from the image. A regular file is read first (up to the
 * hold cap): a hard link elsewhere keeps its content (links.ts), as `rm`
 * of one name leaves the other.
 */
export function deleteEntry(e: Entry): null | Promise<null> {
  return e.type === 'file' ? hold(e).then(() => null) : null;
}

/** Hold a file (body buffered) or any other entry type (no body) for later. */
export async function hold(e: Entry, cap = SMALL_CAP): Promise<Held | null> {
  if (e.type !== 'file') return { entry: withBody(e, Buffer.alloc(0)), buf: Buffer.alloc(0) };
  const buf = await holdBody(e, cap);
  return buf ? { entry: withBody(e, buf), buf } : null;
}
