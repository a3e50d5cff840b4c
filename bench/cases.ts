// What the bench runs: each case is one input archive and a set of tools
// (zonep2v and the reference programs) that unpack it, each into its own
// fresh directory, with the directory as the working directory. Parse-only
// cases write nothing: they read the archive (and decode it) only.

import path from 'node:path';
import type { FixtureName, Fixtures } from './fixtures.js';
import { BIN, BIN_ENV, BIN_NODE_FLAGS, DIST_BENCH, q, which } from './util.js';

export interface RunCtx {
  /** The fresh output directory (also the working directory). */
  out: string;
  /** The case's input file. */
  archive: string;
  fx: Fixtures;
}

export interface Tool {
  name: string;
  /** A reference (system) tool: ratios are taken against the fastest of these. */
  ref: boolean;
  /** Programs that must be installed for this tool. */
  needs: string[];
  cmd(c: RunCtx): string;
  /** The command prints a JSON line (parse-only) that the bench keeps. */
  json?: boolean;
  /**
   * A non-zero exit that still counts as a complete run, with the note to
   * show (e.g. bsdtar's exit 1 over one name it cannot convert).
   */
  accept?(code: number | null, stderr: string): string | undefined;
  /**
   * Targets ('disk', 'tmpfs', '-' for parse only) where this tool runs only
   * with --all or an explicit --targets, to keep the default run short.
   */
  allOnly?: string[];
}

export interface Case {
  name: string;
  /** What --only matches besides the name. */
  group: string;
  /** The input fixture. */
  input: FixtureName;
  /** Other fixtures it needs. */
  also?: FixtureName[];
  /** Runs on the targets (true), or writes nothing (parse only). */
  writes: boolean;
  /**
   * Targets run without --all or an explicit --targets (default: both).
   * The decoder-bound cases (bzip2, compress, flar-Z) run on tmpfs only by
   * default: their time is the decoder's, the target adds a few seconds to
   * every tool alike, and they are the slowest runs of the bench.
   */
  defaultTargets?: string[];
  what: string;
  tools: Tool[];
}

const node = (s: string) => [...Object.entries(BIN_ENV).map(([k, v]) => `${k}=${v}`), process.execPath, ...BIN_NODE_FLAGS].map(q).join(' ') + ` ${s}`;
const zx: Tool = { name: 'zonep2v extract', ref: false, needs: [], cmd: (c) => node(`${q(BIN)} extract -a ${q(c.archive)} -C .`) };
const zinstall: Tool = {
  name: 'zonep2v install',
  ref: false,
  needs: [],
  cmd: (c) => node(`${q(BIN)} install bench ${q(path.join(c.out, 'zp'))} -a ${q(c.archive)} -p --host-root ${q(c.fx.files.host!)} --ip-type shared --log ${q(path.join(c.out, 'install.log'))} -s`),
};
const CPIO = 'cpio -idm --quiet';
/**
 * GNU tar stores the image's one non-UTF-8 name in a pax path record without
 * hdrcharset=BINARY; bsdtar then says "Pathname can't be converted" for it and
 * exits 1 after extracting everything. That run is timed as complete.
 */
const bsdtarNames = (code: number | null, stderr: string): string | undefined => {
  const lines = stderr.trim().split('\n').filter(Boolean);
  if (code === 1 && lines.length > 0 && lines.every((l) => /Pathname can't be converted|Error exit delayed/.test(l))) {
    return "bsdtar exits 1: it cannot convert the image's non-UTF-8 pax path (GNU tar writes no hdrcharset=BINARY); the rest is extracted and the run is counted";
  }
  return undefined;
};
const ref = (name: string, needs: string[], cmd: (c: RunCtx) => string): Tool => ({ name, ref: true, needs, cmd });
/** A system tool shown beside the references, with its own ratio to them, but not one of them. */
const beside = (name: string, needs: string[], cmd: (c: RunCtx) => string): Tool => ({ name, ref: false, needs, cmd });
const flarTail = (c: RunCtx, f: FixtureName) => `tail -c +${(c.fx.flarOffset[f] ?? 0) + 1} ${q(c.archive)}`;
const parse = (mode: 'parse' | 'decode'): Tool => ({ name: `zonep2v ${mode}`, ref: false, needs: [], json: true, cmd: (c) => node(`${q(path.join(DIST_BENCH, 'parse-only.js'))} ${mode} ${q(c.archive)}`) });

export const CASES: Case[] = [
  {
    name: 'cpio',
    group: 'extract',
    input: 'cpio-odc',
    also: ['host'],
    writes: true,
    what: 'uncompressed odc cpio (find . -depth | pax -x cpio)',
    tools: [zx, zinstall, ref('GNU cpio -idm', ['cpio'], (c) => `${CPIO} < ${q(c.archive)}`), ref('bsdtar -x', ['bsdtar'], (c) => `bsdtar -xf ${q(c.archive)}`)],
  },
  {
    name: 'pax',
    group: 'extract',
    input: 'pax',
    writes: true,
    what: 'pax (GNU tar --format=pax)',
    tools: [zx, ref('GNU tar -x', ['tar'], (c) => `tar -xf ${q(c.archive)}`), { ...ref('bsdtar -x', ['bsdtar'], (c) => `bsdtar -xf ${q(c.archive)}`), accept: bsdtarNames }],
  },
  {
    name: 'dump',
    group: 'extract',
    input: 'dump',
    writes: true,
    what: 'dump -0 of the tree on ext2 (mke2fs -d, loop device)',
    tools: [zx, ref('restore -r', ['restore'], (c) => `restore -r -y -f ${q(c.archive)}`)],
  },
  {
    name: 'gzip',
    group: 'extract',
    input: 'cpio-odc.gz',
    writes: true,
    what: 'odc cpio | gzip',
    tools: [zx, ref('gzip -dc | cpio', ['gzip', 'cpio'], (c) => `gzip -dc < ${q(c.archive)} | ${CPIO}`)],
  },
  {
    name: 'bzip2',
    group: 'extract',
    defaultTargets: ['tmpfs'],
    input: 'cpio-odc.bz2',
    writes: true,
    what: 'odc cpio | bzip2 (lbzip2 when present)',
    tools: [
      zx,
      // The reference is what issue #8 names, `bzip2 -dc | cpio -idm`.
      // zonep2v decodes with lbzip2 when it is installed: with --all the same
      // pipeline with lbzip2 runs beside it, to show what the decoder alone
      // gives (36 s more in the default run, which must stay under 10 min).
      ref('bzip2 -dc | cpio', ['bzip2', 'cpio'], (c) => `bzip2 -dc < ${q(c.archive)} | ${CPIO}`),
      { ...beside('lbzip2 -dc | cpio', ['lbzip2', 'cpio'], (c) => `lbzip2 -dc < ${q(c.archive)} | ${CPIO}`), allOnly: ['disk', 'tmpfs'] },
    ],
  },
  {
    name: 'compress',
    group: 'extract',
    defaultTargets: ['tmpfs'],
    input: 'cpio-odc.Z',
    writes: true,
    what: 'odc cpio | compress (.Z)',
    tools: [zx, ref('uncompress -c | cpio', ['uncompress', 'cpio'], (c) => `uncompress -c < ${q(c.archive)} | ${CPIO}`)],
  },
  {
    name: 'flar',
    group: 'extract',
    input: 'flar',
    writes: true,
    what: 'flash archive, newc cpio payload',
    tools: [zx, ref('tail -c +N | cpio', ['tail', 'cpio'], (c) => `${flarTail(c, 'flar')} | ${CPIO}`)],
  },
  {
    name: 'flar-Z',
    group: 'extract',
    defaultTargets: ['tmpfs'],
    input: 'flar-Z',
    writes: true,
    what: 'flash archive, compressed (.Z) newc payload',
    tools: [zx, ref('tail | uncompress | cpio', ['tail', 'uncompress', 'cpio'], (c) => `${flarTail(c, 'flar-Z')} | uncompress -c | ${CPIO}`)],
  },
  // Parse only: nothing is written. The references read the whole stream too.
  {
    name: 'parse:cpio-odc',
    group: 'parse',
    input: 'cpio-odc',
    writes: false,
    what: 'odc parser, bodies drained',
    tools: [parse('parse'), ref('cpio -it', ['cpio'], (c) => `cpio -it --quiet < ${q(c.archive)} > /dev/null`)],
  },
  {
    name: 'parse:pax',
    group: 'parse',
    input: 'pax',
    writes: false,
    what: 'tar/pax parser, bodies drained',
    // Through a pipe: on a seekable file GNU tar -t seeks over the bodies.
    tools: [parse('parse'), ref('cat | tar -t', ['tar'], (c) => `cat ${q(c.archive)} | tar -tf - > /dev/null`)],
  },
  {
    name: 'parse:dump',
    group: 'parse',
    input: 'dump',
    writes: false,
    what: 'ufsdump parser, bodies drained (no reference reads a whole dump without writing)',
    tools: [parse('parse')],
  },
  {
    name: 'parse:flar',
    group: 'parse',
    input: 'flar',
    writes: false,
    what: 'flar sections + newc parser, bodies drained',
    tools: [parse('parse'), ref('tail | cpio -it', ['tail', 'cpio'], (c) => `${flarTail(c, 'flar')} | cpio -it --quiet > /dev/null`)],
  },
  {
    name: 'decode:gzip',
    group: 'parse',
    input: 'cpio-odc.gz',
    writes: false,
    what: 'gzip decoder (zlib), output drained',
    tools: [parse('decode'), ref('gzip -dc', ['gzip'], (c) => `gzip -dc < ${q(c.archive)} > /dev/null`)],
  },
  {
    name: 'decode:bzip2',
    group: 'parse',
    input: 'cpio-odc.bz2',
    writes: false,
    what: 'bzip2 decoder (system lbzip2/bzip2 subprocess), output drained',
    // zonep2v runs lbzip2 (or bzip2) as a subprocess: the references measure
    // the same program, so they run only with --all; the bzip2 case compares.
    tools: [
      parse('decode'),
      { ...ref('bzip2 -dc', ['bzip2'], (c) => `bzip2 -dc < ${q(c.archive)} > /dev/null`), allOnly: ['-'] },
      { ...ref('lbzip2 -dc', ['lbzip2'], (c) => `lbzip2 -dc < ${q(c.archive)} > /dev/null`), allOnly: ['-'] },
    ],
  },
  {
    name: 'decode:compress',
    group: 'parse',
    input: 'cpio-odc.Z',
    writes: false,
    what: 'compress .Z decoder (our LZW), output drained',
    tools: [parse('decode'), ref('uncompress -c', ['uncompress'], (c) => `uncompress -c < ${q(c.archive)} > /dev/null`)],
  },
];

/** The tools of a case that can run here, and why the others cannot. */
export function availableTools(c: Case, target: string, all: boolean): { tools: Tool[]; missing: { tool: string; reason: string }[] } {
  const tools: Tool[] = [];
  const missing: { tool: string; reason: string }[] = [];
  for (const t of c.tools) {
    if (!all && t.allOnly?.includes(target)) continue;
    const gone = t.needs.filter((n) => !which(n));
    if (gone.length) missing.push({ tool: t.name, reason: `${gone.join(', ')} not installed` });
    else tools.push(t);
  }
  return { tools, missing };
}

/** Cases selected by --only (names or groups; a trailing ':' or prefix match on names like "parse:"). */
export function selectCases(only: string[] | undefined): Case[] {
  if (!only || only.length === 0) return CASES;
  const unknown = only.filter((o) => !CASES.some((c) => c.name === o || c.group === o || c.name.startsWith(`${o}:`)));
  if (unknown.length) throw new Error(`--only: unknown case(s) ${unknown.join(', ')}; known: ${[...new Set(CASES.flatMap((c) => [c.group, c.name]))].join(', ')}`);
  return CASES.filter((c) => only.some((o) => c.name === o || c.group === o || c.name.startsWith(`${o}:`)));
}
