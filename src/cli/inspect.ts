// `zonep2v inspect`: read the whole image without writing anything and say
// what an install would do and what stands in its way, zonep2vchk-style but
// from the image itself. It runs install's own chain (the same rule context,
// the same rules, the same sanity and attach checks) into a counting sink
// that writes nothing, so its verdict is the install's.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkBackout, checkSanity, checkWholeRoot, compareInventories, inventoryAfterBackout, unsafeDirs, type Inventory, type ParsedZone } from '../attach/index.js';
import { EXIT, UsageError } from '../errors.js';
import { CountSink, type CountStats } from '../inspect/count-sink.js';
import { ImageObserver } from '../inspect/observe.js';
import { buildInspect, renderText, type InspectInput } from '../inspect/report.js';
import { reportEntry } from '../rules/index.js';
import type { RuleContext } from '../rules/types.js';
import { RESERVE_BYTES } from '../sink/fs.js';
import { freeBytesFor, zonepathProblems } from '../sink/zonepath.js';
import { checkSourceFiles, describeError, Interrupt, openSource, Warnings } from './common.js';
import { loadHostInventory, loadZone, makeRuleContext, p2vPipeline, runDate } from './pipeline-setup.js';
import { loadSiteConfig } from './site-config.js';
import { limitUsage, parseLimits, type CliLimits } from './limits.js';

export const INSPECT_USAGE = `usage: zonep2v inspect (-a ARCHIVE | -a - | -d DIR | --command CMD) [options]

Read the whole image, write nothing, and report what an install would do and
what stands in its way (like zonep2vchk, but from the image): format, release,
counts, nested zones, vfstab lines p2v disables and the zonecfg resource that
brings each back, shares, network interfaces, SMF changes, services a zone
cannot run, /etc/system tunables, and the attach verdict against the host.
It ends with a ready zonecfg command file for the zone.

Options:
  -u | -p                  inspect as install -u (sys-unconfig) or -p (default)
      --zone NAME          zone name (default: the zone configuration's, or "zone");
                           where zonecfg is on PATH, its configuration is read as install does
      --zonepath PATH      zonepath for the zonecfg file (default /zones/NAME); given
                           (or in the zone's configuration), checked as install
                           checks it: installed or incomplete zone, unsafe path,
                           a zone root that is not empty, room for the image
      --zone-config FILE   the zone's etc/zones/NAME.xml
      --ip-type shared|exclusive
      --net physical=NAME  (repeatable) a net resource of an exclusive-IP zone
      --host-root DIR      the host's root for its package inventory (default /)
      --host-manifest FILE the host's inventory as SUNWdetached.xml
  -b patchid               judged as install -b: the patch backed out first (repeatable)
      --config FILE        site rules (as install --config)
      --json               one JSON document ({"v":1,...}) instead of the text
      --zonecfg-file FILE  also write the zonecfg command file to FILE
      --lenient            warn instead of failing on malformed but harmless input
${limitUsage(27)}
  -h, --help               this text

Exit status: 0 an install would succeed; 1 it would not; 253 usage (with --json,
a document with the error), or the --zonecfg-file could not be written (the
report is printed all the same); 128+N stopped by signal N (no report).`;

interface InspectArgs {
  archive?: string[];
  dir?: string;
  command?: string;
  identity: 'unconfigure' | 'preserve';
  identityGiven: boolean;
  zone?: string;
  zonepath?: string;
  zoneConfig?: string;
  ipType?: 'shared' | 'exclusive';
  net: string[];
  hostRoot?: string;
  hostManifest?: string;
  config?: string;
  json: boolean;
  zonecfgFile?: string;
  lenient: boolean;
  limits: CliLimits;
  /** -b: patches an install would back out before its downgrade check. */
  backout: string[];
}

/** The options inspect and convert share (zone, identity, rules). */
export const ZONE_OPTIONS = {
  zone: { type: 'string' },
  zonepath: { type: 'string' },
  'zone-config': { type: 'string' },
  'ip-type': { type: 'string' },
  net: { type: 'string', multiple: true },
  config: { type: 'string' },
  u: { type: 'boolean', short: 'u' },
  p: { type: 'boolean', short: 'p' },
  lenient: { type: 'boolean' },
  limit: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Checks shared by inspect and convert on the parsed values. */
export function zoneArgs(v: Record<string, unknown>): Pick<InspectArgs, 'identity' | 'identityGiven' | 'zone' | 'zonepath' | 'zoneConfig' | 'ipType' | 'net' | 'config' | 'lenient' | 'limits'> {
  if (v['u'] && v['p']) throw new UsageError('cannot select both preserve (-p) and unconfigure (-u)');
  const ipType = v['ip-type'] as string | undefined;
  if (ipType !== undefined && ipType !== 'shared' && ipType !== 'exclusive') throw new UsageError(`--ip-type must be shared or exclusive, not ${JSON.stringify(ipType)}`);
  const net = ((v['net'] as string[] | undefined) ?? []).map((s) => {
    const m = /^physical=(.+)$/.exec(s);
    if (!m) throw new UsageError(`--net ${JSON.stringify(s)}: expected physical=NAME`);
    return m[1]!;
  });
  const zonepath = v['zonepath'] as string | undefined;
  if (zonepath !== undefined && !zonepath.startsWith('/')) throw new UsageError(`the zonepath must be absolute: ${JSON.stringify(zonepath)}`);
  return {
    identity: v['u'] ? 'unconfigure' : 'preserve',
    identityGiven: Boolean(v['u'] || v['p']),
    zone: v['zone'] as string | undefined,
    zonepath,
    zoneConfig: v['zone-config'] as string | undefined,
    ipType: ipType as InspectArgs['ipType'],
    net,
    config: v['config'] as string | undefined,
    lenient: Boolean(v['lenient']),
    limits: parseLimits(v['limit'] as string[] | undefined),
  };
}

function parse(argv: string[]): InspectArgs | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...ZONE_OPTIONS,
      archive: { type: 'string', short: 'a', multiple: true },
      dir: { type: 'string', short: 'd' },
      command: { type: 'string' },
      'host-root': { type: 'string' },
      'host-manifest': { type: 'string' },
      json: { type: 'boolean' },
      'zonecfg-file': { type: 'string' },
      b: { type: 'string', short: 'b', multiple: true },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return 'help';
  if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const n = (values.archive?.length ? 1 : 0) + (values.dir ? 1 : 0) + (values.command ? 1 : 0);
  if (n !== 1) throw new UsageError('give exactly one source: -a ARCHIVE (or - for stdin), -d DIR or --command CMD');
  if (values['host-root'] && values['host-manifest']) throw new UsageError('give --host-root or --host-manifest, not both');
  const backout = values.b ?? [];
  for (const b of backout) if (!/^\d{6}-\d{2}$/.test(b)) throw new UsageError(`-b ${JSON.stringify(b)}: a patch id looks like 123456-01`);
  return {
    ...zoneArgs(values),
    archive: values.archive,
    dir: values.dir,
    command: values.command,
    hostRoot: values['host-root'],
    hostManifest: values['host-manifest'],
    json: Boolean(values.json),
    zonecfgFile: values['zonecfg-file'],
    backout,
  };
}

export async function inspectCommand(argv: string[]): Promise<number> {
  let args: InspectArgs;
  let zone: ParsedZone;
  let hostInv: Inventory;
  let site: RuleContext['site'];
  let zoneNote: string | undefined;
  try {
    const a = parse(argv);
    if (a === 'help') {
      process.stdout.write(`${INSPECT_USAGE}\n`);
      return EXIT.OK;
    }
    args = a;
    // As install: with --zone and no --zone-config, the zone's configuration
    // from zonecfg where there is one (a sparse root, ip-type and net change
    // the verdict); a zone not configured yet is inspected with the options.
    const zopts = { zone: args.zone, zonepath: args.zonepath, zoneConfig: args.zoneConfig, ipType: args.ipType, net: args.net };
    try {
      zone = await loadZone({ ...zopts, useZonecfg: true });
    } catch (e) {
      if ((e as Error).name !== 'ZoneConfigError' || !/^zonecfg -z /.test((e as Error).message)) throw e;
      zone = await loadZone(zopts);
      zoneNote = `${(e as Error).message}: inspected with the options given; install reads the zone's configuration from zonecfg, so configure the zone first (the zonecfg command file below)`;
    }
    hostInv = await loadHostInventory(args);
    site = loadSiteConfig(args.config);
    checkSourceFiles(args.archive, args.dir);
    if (args.zonecfgFile) checkOutputDir(args.zonecfgFile);
  } catch (e) {
    const msg = e instanceof UsageError || (e as Error).name === 'ZoneConfigError' || (e as Error).name === 'ManifestError' ? (e as Error).message : describeError(e).message;
    process.stderr.write(`zonep2v inspect: ${msg}\n${e instanceof UsageError && /option|argument|source/.test(msg) ? `${INSPECT_USAGE}\n` : ''}`);
    // A program reading --json gets a document for a refusal too.
    const dd = argv.indexOf('--');
    if ((dd < 0 ? argv : argv.slice(0, dd)).includes('--json')) process.stdout.write(`${JSON.stringify({ v: 1, error: { kind: 'usage', message: msg }, verdict: { ok: false, exit: EXIT.USAGE } }, null, 2)}\n`);
    return EXIT.USAGE;
  }

  const stderr = (s: string) => process.stderr.write(`zonep2v inspect: ${s}\n`);
  const warnings = new Warnings(stderr, false);
  const sink = new CountSink({ caps: args.limits.sink, lenient: args.lenient });
  const observer = new ImageObserver();
  const zonepath = zone.zonepath ?? `/zones/${zone.name}`;
  const ctx = makeRuleContext({ zone, identity: args.identity, date: runDate(), removeWritten: (p) => sink.removeWritten(p), site });
  const source = args.archive?.join(' + ') ?? args.dir ?? args.command ?? '?';
  const input: InspectInput = {
    source: args.archive?.[0] === '-' ? 'stdin' : source,
    info: { compression: [] },
    facts: observer.facts,
    zone,
    identity: args.identity,
    identityGiven: args.identityGiven,
    report: ctx.report,
    zoneError: checkWholeRoot(zone),
    // Only a zonepath the user or the zone's configuration gave: the default
    // /zones/NAME is just a suggestion for the zonecfg file.
    zonepathErrors: zone.zonepath ? zonepathProblems(zone.zonepath, zone.name) : undefined,
    zoneNote,
    host: { label: args.hostManifest ? `manifest ${args.hostManifest}` : `root ${args.hostRoot ?? '/'}`, inventory: hostInv },
  };
  // A signal stops the source too: a command's processes are not left running.
  const interrupt = new Interrupt();
  try {
    const src = openSource({ archive: args.archive, dir: args.dir, command: args.command }, { lenient: args.lenient, warn: warnings.add, signal: interrupt.signal, limits: args.limits });
    interrupt.watch(src.input);
    input.info = src.info;
    const { stream, inventory, sanity } = p2vPipeline(src.entries, ctx, [observer]);
    for await (const e of stream) {
      interrupt.check();
      await sink.write(e);
    }
    interrupt.check();
    await sink.write(reportEntry(ctx));
    input.output = (await sink.finish()) as CountStats;
    // Install stops when a file would leave less than the reserve free.
    const free = zone.zonepath ? freeBytesFor(zone.zonepath) : undefined;
    if (free !== undefined && input.output.bytes + RESERVE_BYTES > free) {
      input.zonepathErrors = [...(input.zonepathErrors ?? []), `the zonepath's file system has ${free} bytes free; the image's ${input.output.bytes} bytes of file data and the ${RESERVE_BYTES}-byte reserve an install keeps free need ${input.output.bytes + RESERVE_BYTES - free} more`];
    }
    const image = inventory.result();
    input.image = image;
    // -b: as install, the patches are backed out before the downgrade check.
    const backout = checkBackout(inventory.raw, args.backout);
    input.attach = {
      sanity: checkSanity({ seen: sanity.seen, root: path.join(zonepath, 'root'), image: image.release?.instRelease, host: hostInv.release?.instRelease }),
      compare: compareInventories(inventoryAfterBackout(inventory.raw, image, args.backout), hostInv, zone.name),
      unsafe: unsafeDirs(sanity.notDir),
      backout,
    };
  } catch (caught) {
    const e = interrupt.reason(caught);
    if (interrupt.signal.aborted) {
      // No report of an image read in part, and not 1 ("an install would
      // fail"): the shell's status for a command a signal ended.
      stderr(describeError(e).message);
      return 128 + (os.constants.signals[interrupt.received ?? 'SIGTERM'] ?? 15);
    }
    const { message } = describeError(e);
    input.error = { kind: (e as { kind?: string }).kind, message, ...(e === sink.failure ? { writing: true } : {}) };
  } finally {
    interrupt.dispose();
  }
  input.warnings = Object.fromEntries(warnings.counts);

  const doc = buildInspect(input);
  process.stdout.write(args.json ? `${JSON.stringify(doc, null, 2)}\n` : renderText(doc));
  if (args.zonecfgFile) {
    try {
      writeAtomic(args.zonecfgFile, doc.zonecfg);
    } catch (e) {
      // Not "an install would fail" (1): the report stands, the file is missing.
      stderr(`cannot write ${args.zonecfgFile}: ${describeError(e).message}`);
      return EXIT.USAGE;
    }
  }
  return doc.verdict.exit;
}

/** --zonecfg-file's directory must exist and be writable: checked before the image is read. */
function checkOutputDir(file: string): void {
  const dir = path.dirname(path.resolve(file));
  try {
    if (!fs.statSync(dir).isDirectory()) throw new Error('not a directory');
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new UsageError(`--zonecfg-file ${file}: cannot write in ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): give a file in a writable directory`);
  }
}

/** Write a small file through a temporary name in the same directory, then rename. */
function writeAtomic(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, text, { mode: 0o644, flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
