// Helpers for the rule tests: in-memory entries, a context that records
// removeWritten calls, and collection of a rule's output with bodies read.

import fs from 'node:fs';
import type { Test } from 'tap';
import { bufferBody, emptyBody, type Entry, type EntryType } from '../src/entry.js';
import { Report } from '../src/rules/report.js';
import type { RuleContext, ZoneConfig } from '../src/rules/types.js';

export const FIXTURES = new URL('../../test/fixtures/rules/', import.meta.url);
export const DATE = new Date(Date.UTC(2009, 2, 10, 14, 5, 9));
export const TRAILER = '# Modified by p2v Tue Mar 10 14:05:09 UTC 2009';

export function fixture(name: string): Buffer {
  return fs.readFileSync(new URL(name, FIXTURES));
}

let n = 0;
/** An entry as a parser would yield it; content makes a file. */
export function ent(path: string, type: EntryType = 'dir', content?: Buffer | string, over: Partial<Entry> = {}): Entry {
  const buf = content === undefined ? undefined : typeof content === 'string' ? Buffer.from(content, 'latin1') : content;
  const t: EntryType = buf !== undefined && type === 'dir' ? 'file' : type;
  return {
    path,
    type: t,
    mode: t === 'dir' ? 0o755 : 0o644,
    uid: 0,
    gid: 3,
    mtime: 1236000000,
    mtimeNsec: 0,
    size: buf?.length ?? 0,
    offset: n * 512,
    index: n++,
    body: buf ? bufferBody(buf) : emptyBody,
    ...over,
  };
}

export const file = (path: string, content: Buffer | string, over: Partial<Entry> = {}) => ent(path, 'file', content, over);

export interface TestCtx extends RuleContext {
  removed: string[];
}

export function makeCtx(over: { zone?: Partial<ZoneConfig>; identity?: 'unconfigure' | 'preserve'; site?: RuleContext['site'] } = {}): TestCtx {
  const removed: string[] = [];
  return {
    zone: { name: 'web1', ipType: 'shared', net: [], inheritPkgDirs: [], fs: [], datasets: [], ...over.zone },
    identity: over.identity ?? 'preserve',
    date: DATE,
    report: new Report(),
    removed,
    async removeWritten(p: string) {
      removed.push(p);
      return 1;
    },
    site: over.site ?? { disableServices: [], removePackages: [] },
  };
}

const stale = new WeakSet<Entry>();

/**
 * Yield the entries like a parser: once the next entry is asked for, the
 * previous one's body can no longer be read (reading it throws).
 */
export async function* from(list: Entry[]): AsyncIterable<Entry> {
  let prev: Entry | null = null;
  for (const e of list) {
    if (prev) stale.add(prev);
    const orig = e.body;
    const self = e;
    e.body = () => {
      if (stale.has(self)) throw new Error(`${self.path}: body read after the next entry was pulled`);
      return orig();
    };
    prev = e;
    yield e;
  }
}

export interface Out {
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  text?: string;
}

/** Run and collect: each entry's body is read before the next is pulled (as a sink does). */
export async function collect(it: AsyncIterable<Entry>): Promise<Out[]> {
  const out: Out[] = [];
  for await (const e of it) {
    const o: Out = { path: e.path, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, size: e.size };
    if (e.type === 'file') {
      const parts: Buffer[] = [];
      for await (const c of e.body()) parts.push(c);
      const b = Buffer.concat(parts);
      if (b.length !== e.size) throw new Error(`${e.path}: size ${e.size} but body ${b.length}`);
      o.text = b.toString('latin1');
    }
    out.push(o);
  }
  return out;
}

export const paths = (o: Out[]) => o.map((x) => x.path);
export const byPath = (o: Out[], p: string) => o.find((x) => x.path === p);

/** collect(), with each hard link's target (linkTarget) kept. */
export async function collectLinks(it: AsyncIterable<Entry>): Promise<(Out & { linkTarget?: string })[]> {
  const targets: string[] = [];
  async function* tap(src: AsyncIterable<Entry>) {
    for await (const e of src) {
      targets.push(e.linkTarget ?? '');
      yield e;
    }
  }
  const out = await collect(tap(it));
  return out.map((o, i) => (o.type === 'hardlink' ? { ...o, linkTarget: targets[i] } : o));
}

/** Every hard link points at a regular file emitted before it (a name taken over by anything else no longer counts). */
export function linksResolve(t: Test, out: (Out & { linkTarget?: string })[]): void {
  const files = new Set<string>();
  for (const o of out) {
    const p = o.path.replace(/^\.\//, '');
    if (o.type === 'hardlink') t.ok(files.has(o.linkTarget!.replace(/^\.\//, '')), `${o.path} -> ${o.linkTarget} points at an earlier file`);
    if (o.type === 'file' || o.type === 'hardlink') files.add(p);
    else files.delete(p);
  }
}
