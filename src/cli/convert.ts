// `zonep2v convert`: apply the p2v rules (install's own chain and rule
// context) and write a p2v-ready archive instead of a zone root, so that an
// image can be prepared anywhere and installed later:
//
//   ssh old 'flarcreate -n old -c -S -' | zonep2v convert -a - -o - | ssh host 'cat > web1.pax'
//
// The output (pax by default, or newc cpio) extracts with GNU tar, bsdtar or
// GNU cpio to exactly the tree an install would write.
//
// Nested zones found late: a zone's files may come before etc/zones/index in
// the archive, and what is streamed out cannot be taken back. When the input
// is a regular file (or a directory), a first pass reads the index (parse
// only, bodies skipped, stopping at the index) and gives it to the rules up
// front (RuleContext.zoneIndex), so the zonepaths are dropped from the first
// entry on. When the input is a pipe and a late removal turns out to be
// needed, convert fails (254) naming the zone, rather than ship its data.
// A file OUT is written through a temporary name and renamed at the end.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { checkSanity, checkWholeRoot, type ParsedZone } from '../attach/index.js';
import { readBody } from '../entry.js';
import { ArchiveError, EXIT, UsageError } from '../errors.js';
import { defineRule, reportEntry } from '../rules/index.js';
import { hold } from '../rules/make.js';
import type { Entry } from '../entry.js';
import { NESTED_ZONES, parseIndex, ZONE_INDEX, zonepathsToDrop } from '../rules/nestedzones.js';
import { normPath } from '../rules/path.js';
import { toLines } from '../rules/text.js';
import type { RuleContext } from '../rules/types.js';
import { CpioWriter } from '../sink/cpio-writer.js';
import { PaxWriter } from '../sink/pax-writer.js';
import { checkSourceFiles, describeError, Interrupt, openSource, Warnings, type SourceSpec } from './common.js';
import { ZONE_OPTIONS, zoneArgs } from './inspect.js';
import { formatLabel, loadZone, makeRuleContext, p2vPipeline, runDate } from './pipeline-setup.js';
import { loadSiteConfig } from './site-config.js';
import { limitUsage, type CliLimits } from './limits.js';

export const CONVERT_USAGE = `usage: zonep2v convert (-a IN | -a - | -d DIR | --command CMD) -o OUT [options]

Apply the p2v rules (as install would, with the same zone settings) and write
a p2v-ready archive instead of a zone root; OUT may be - for stdout. Install
the result later with zonep2v install ZONE ZONEPATH -a OUT -u|-p.

Options:
  -o OUT                   output archive (- for stdout; a file is written
                           atomically: temporary name, renamed when complete)
      --format pax|cpio    pax (default; GNU tar, bsdtar) or cpio (newc; GNU cpio)
      --sparse             pax: files with holes as GNU sparse 1.0 members (as
                           GNU tar -S; GNU tar and bsdtar restore the holes,
                           Solaris tar does not know them); default: written
                           out in full, with a warning
  -u | -p                  sys-unconfig the image, or preserve its identity (default -p)
      --zone NAME          zone name (default: the zone configuration's, or "zone")
      --zonepath PATH      accepted as by inspect; the archive does not depend on it
      --zone-config FILE   the zone's etc/zones/NAME.xml
      --ip-type shared|exclusive
      --net physical=NAME  (repeatable) a net resource of an exclusive-IP zone
      --config FILE        site rules (as install --config)
      --lenient            warn instead of failing on malformed but harmless input
${limitUsage(27)}
  -q, --quiet              no summary on stderr
  -h, --help               this text

Exit status: 0 written; 253 usage; 254 failed (a file OUT is not left behind).`;

interface ConvertArgs extends ReturnType<typeof zoneArgs> {
  archive?: string[];
  dir?: string;
  command?: string;
  out: string;
  format: 'pax' | 'cpio';
  sparse: boolean;
  quiet: boolean;
}

function parse(argv: string[]): ConvertArgs | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...ZONE_OPTIONS,
      archive: { type: 'string', short: 'a', multiple: true },
      dir: { type: 'string', short: 'd' },
      command: { type: 'string' },
      output: { type: 'string', short: 'o' },
      format: { type: 'string' },
      sparse: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return 'help';
  if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const n = (values.archive?.length ? 1 : 0) + (values.dir ? 1 : 0) + (values.command ? 1 : 0);
  if (n !== 1) throw new UsageError('give exactly one source: -a IN (or - for stdin), -d DIR or --command CMD');
  if (values.output === undefined || values.output === '') throw new UsageError('give the output archive: -o OUT (or -o - for stdout)');
  const format = values.format ?? 'pax';
  if (format !== 'pax' && format !== 'cpio') throw new UsageError(`--format must be pax or cpio, not ${JSON.stringify(format)}`);
  if (values.sparse && format !== 'pax') throw new UsageError('--sparse is for --format pax: newc cpio cannot hold holes');
  if (values.archive?.includes('-') && process.stdin.isTTY) throw new UsageError('stdin is a terminal: pipe an archive into -a -');
  if (values.output === '-' && process.stdout.isTTY) throw new UsageError('refusing to write an archive to a terminal: redirect stdout or give -o FILE');
  return {
    ...zoneArgs(values),
    archive: values.archive,
    dir: values.dir,
    command: values.command,
    out: values.output,
    format,
    sparse: Boolean(values.sparse),
    quiet: Boolean(values.quiet),
  };
}

/**
 * The first pass over a file input: the entries up to etc/zones/index, bodies
 * skipped, and the index's bytes (undefined when the image has none, or it
 * is not a regular file, or it is too large for the rule to read).
 */
export async function readZoneIndex(spec: SourceSpec, lenient: boolean, limits?: CliLimits): Promise<Buffer | undefined> {
  if (spec.dir) {
    const p = path.join(spec.dir, ZONE_INDEX);
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st?.isFile() || st.size > 1024 * 1024) return undefined;
    return fs.readFileSync(p);
  }
  const src = openSource(spec, { lenient, warn: () => {}, limits });
  try {
    for await (const e of src.entries) {
      if (normPath(e.path) !== ZONE_INDEX) continue;
      if (e.type !== 'file' || e.size > 1024 * 1024) return undefined;
      return await readBody(e, 1024 * 1024);
    }
    return undefined;
  } finally {
    src.input?.close();
  }
}

/** Most zone configuration files held back, and the largest. */
const HOLD_FILES = 1000;
const HOLD_CAP = 1024 * 1024;

/**
 * For a pipe input: etc/zones/<zone>.xml files met before etc/zones/index
 * (directory order often puts them first) are held back (small, bounded) and
 * let through right after the index, so that the nested-zones rule can drop
 * those of removed zones instead of needing a late removal. A hard link to a
 * held file, or the caps, end the holding (the files go out in order).
 */
export const holdZoneConfigs = defineRule('hold-zone-configs', () => {
  let held: Entry[] = [];
  const names = new Set<string>();
  let done = false;
  const release = (e: Entry | null): Entry[] => {
    done = true;
    const out = e ? [...held, e] : held;
    held = [];
    return out;
  };
  return {
    entry(e, rel) {
      if (done) return e;
      if (rel === ZONE_INDEX) {
        done = true;
        const out = [e, ...held];
        held = [];
        return out;
      }
      if (e.type === 'hardlink' && e.linkTarget !== undefined && names.has(normPath(e.linkTarget))) return release(e);
      if (!(rel.startsWith('etc/zones/') && rel.endsWith('.xml') && rel.indexOf('/', 10) < 0) || e.type !== 'file') return e;
      if (held.length >= HOLD_FILES || e.size > HOLD_CAP) return release(e);
      return hold(e, HOLD_CAP).then((h) => {
        if (!h) return release(e);
        held.push(h.entry);
        names.add(rel);
        return null;
      });
    },
    finish() {
      return held.length ? release(null) : null;
    },
  };
});

/** Is the source a regular file (or directory) that can be read twice? */
function rereadable(a: ConvertArgs): boolean {
  if (a.dir) return true;
  if (!a.archive || a.archive.length !== 1 || a.archive[0] === '-') return false;
  return fs.statSync(a.archive[0]!, { throwIfNoEntry: false })?.isFile() === true;
}

/** The nested zone a late removal concerns, from the rule's own report, for the message. */
function zoneFor(rel: string, ctx: RuleContext): string {
  const xml = /^etc\/zones\/(.+)\.xml$/.exec(rel);
  if (xml) return `zone '${xml[1]}' (its configuration ${rel})`;
  for (const c of ctx.report.changes) {
    if (c.rule !== NESTED_ZONES || c.action !== 'removed zone' || !c.detail) continue;
    const m = /^(\S+) \(([^)]*)\) at (.*?): /.exec(c.detail);
    if (m && normPath(m[3]!) === rel) return `zone '${m[1]}' (${m[2]}, zonepath ${m[3]})`;
  }
  return `the nested zone at /${rel}`;
}

export async function convertCommand(argv: string[]): Promise<number> {
  let args: ConvertArgs;
  let zone: ParsedZone;
  let site: RuleContext['site'];
  try {
    const a = parse(argv);
    if (a === 'help') {
      process.stdout.write(`${CONVERT_USAGE}\n`);
      return EXIT.OK;
    }
    args = a;
    zone = await loadZone({ zone: args.zone, zonepath: args.zonepath, zoneConfig: args.zoneConfig, ipType: args.ipType, net: args.net });
    const sparse = checkWholeRoot(zone);
    if (sparse) throw new UsageError(sparse);
    site = loadSiteConfig(args.config);
    checkSourceFiles(args.archive, args.dir);
    if (args.out !== '-') {
      const dir = path.dirname(path.resolve(args.out));
      if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`-o ${args.out}: no such directory ${dir}`);
      if (fs.statSync(args.out, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`-o ${args.out} is a directory`);
    }
  } catch (e) {
    const msg = e instanceof UsageError || (e as Error).name === 'ZoneConfigError' ? (e as Error).message : describeError(e).message;
    process.stderr.write(`zonep2v convert: ${msg}\n${e instanceof UsageError && /option|argument|source|output/.test(msg) ? `${CONVERT_USAGE}\n` : ''}`);
    return EXIT.USAGE;
  }

  const say = (s: string) => process.stderr.write(`zonep2v convert: ${s}\n`);
  const warnings = new Warnings(say, false);
  const spec: SourceSpec = { archive: args.archive, dir: args.dir, command: args.command };
  const started = Date.now();
  let tmp: string | undefined;
  let out: Writable | undefined;
  let writer: PaxWriter | CpioWriter | undefined;
  const interrupt = new Interrupt();
  try {
    // First pass (file or directory input): the zone index, so that nested
    // zones are dropped from the start.
    let zoneIndex: Buffer | undefined;
    let preseeded: string[] = [];
    if (rereadable(args)) {
      zoneIndex = await readZoneIndex(spec, args.lenient, args.limits);
      if (zoneIndex) preseeded = zonepathsToDrop(parseIndex(toLines(zoneIndex)).zones);
    }

    if (args.out === '-') out = process.stdout;
    else {
      tmp = path.join(path.dirname(path.resolve(args.out)), `.${path.basename(args.out)}.${process.pid}.tmp`);
      out = fs.createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
    }
    writer = args.format === 'cpio' ? new CpioWriter(out, warnings.add) : new PaxWriter(out, { sparse: args.sparse, warn: warnings.add });
    const w = writer;
    const ctx = makeRuleContext({
      zone,
      identity: args.identity,
      date: runDate(started),
      site,
      zoneIndex,
      removeWritten: async (rel) => {
        const key = normPath(rel);
        // Pre-seeded zonepaths were dropped from the first entry: nothing of them went out.
        if (preseeded.some((p) => p === key)) return 0;
        throw new ArchiveError(
          'nested-zone-late',
          `${zoneFor(key, ctx)} is listed in etc/zones/index, which comes after its files in the archive; they were already written to the output and a stream cannot take them back`,
          {},
          'give the archive as a file (-a FILE): convert then reads the index in a first pass and leaves the zone out from the start',
        );
      },
    });
    const src = openSource(spec, { lenient: args.lenient, warn: warnings.add, signal: interrupt.signal, limits: args.limits });
    interrupt.watch(src.input);
    const { stream, inventory, sanity } = p2vPipeline(src.entries, ctx, zoneIndex ? [] : [holdZoneConfigs]);
    for await (const e of stream) {
      interrupt.check();
      await w.write(e);
    }
    interrupt.check();
    await w.write(reportEntry(ctx));
    const stats = await w.finish();
    if (tmp) {
      fs.renameSync(tmp, args.out);
      tmp = undefined;
    }
    const image = inventory.result();
    const sane = checkSanity({ seen: sanity.seen, root: '(the output)', image: image.release?.instRelease, host: undefined });
    if (!sane.ok) for (const m of sane.messages) say(`warning: ${m.trim()} (an install of this archive would fail)`);
    if (!args.quiet) {
      const skipped = Object.entries(stats.skipped).map(([k, n]) => `${n} ${k}`).join(', ');
      const dropped = Object.entries(ctx.report.dropped).map(([k, n]) => `${n} ${k}`).join(', ');
      say(
        `wrote ${stats.entries} entries (${stats.bytes} bytes of file data) from ${formatLabel(src.info)} to ${args.out === '-' ? 'stdout' : args.out} as ${args.format}` +
          `${dropped ? `; dropped ${dropped}` : ''}${skipped ? `; not representable: ${skipped}` : ''}; ${ctx.report.changes.length} changes (var/log/${zone.name}.p2v.log in the archive)` +
          `${zoneIndex ? '; nested zones read in a first pass' : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      if (warnings.counts.size) say(`warnings: ${warnings.summary()}`);
    }
    return EXIT.OK;
  } catch (caught) {
    const { code, message } = describeError(interrupt.reason(caught));
    say(`error: ${message}`);
    await writer?.abort();
    if (!writer) out?.destroy();
    if (tmp) fs.rmSync(tmp, { force: true });
    if (args.out === '-') say('the archive written to stdout is incomplete (no end marker): discard it');
    return code === EXIT.FATAL ? EXIT.FATAL : EXIT.NOTCOMPLETE;
  } finally {
    interrupt.dispose();
  }
}
