// The install options, checked in the order and with the words Solaris uses
// (reference/solaris-p2v.md 1.2), before anything is changed (exit 253).

import { UsageError } from '../errors.js';
import { limitUsage, parseLimits, type CliLimits } from './limits.js';

export const BRAND_USAGE = `install -a archive (-u | -p) [-v | -s] [-b patchid]*
install -d directory (-u | -p) [-v | -s] [-b patchid]*`;

export const INSTALL_USAGE = `usage: zonep2v install <zonename> <zonepath> [options]
       zonep2v install -z NAME -R ZONEPATH [options]

The native brand's install hook: p2v an image of a Solaris system into the
zone, in one streaming pass, then attach it.
${BRAND_USAGE.split('\n').map((l) => `  ${l}`).join('\n')}

Source (exactly one):
  -a archive           flar, cpio (bin/odc/newc/crc; plain, gzip, bzip2, xz or
                       compress .Z), ufsdump, pax/xustar or tar; - for stdin
  -d directory         a copied or mounted root tree (mount points below it
                       are not crossed)
      --command CMD    read the archive from a shell command's stdout
Identity (exactly one):
  -u                   sys-unconfig the zone (offline, on the image)
  -p                   preserve the system's identity
Output:
  -s                   silent          -v   verbose
      --json           one JSON event per line on stdout, for programs
      --progress       progress on stderr even when it is not a terminal
      --log FILE       install log (default /var/log/zones/zonep2v.<zone>.install.<time>.log)
Zone configuration (default: zonecfg -z NAME info when zonecfg exists):
      --zone-config FILE   the zone's etc/zones/NAME.xml
      --ip-type shared|exclusive
      --net physical=NAME  (repeatable) a net resource of an exclusive-IP zone
Attach:
  -b patchid           back out this patch on attach (repeatable)
      --host-root DIR      the host's root for its package inventory (default /)
      --host-manifest FILE the host's inventory as SUNWdetached.xml (zoneadm detach -n)
      --attach-command CMD run CMD to hand the zone over when zoneadm is absent
Other:
      --config FILE        site rules: extra services to disable, packages to remove
      --clean              remove what a failed earlier run left, then install
      --lenient            warn instead of failing on malformed but harmless input
${limitUsage(27)}
  -x nodataset         accepted for zoneadm compatibility
  -h, --help           this text

Exit status: 0 installed; 253 usage (nothing changed); 254 failed, what was
written is removed, retry; 255 failed and cleanup could not finish: run
zoneadm uninstall -F (or zonep2v install --clean).`;

export interface InstallArgs {
  zone: string;
  zonepath: string;
  archive?: string;
  dir?: string;
  command?: string;
  identity: 'unconfigure' | 'preserve';
  silent: boolean;
  verbose: boolean;
  backout: string[];
  json: boolean;
  progress: boolean;
  log?: string;
  zoneConfig?: string;
  ipType?: 'shared' | 'exclusive';
  net: string[];
  hostRoot?: string;
  hostManifest?: string;
  attachCommand?: string;
  config?: string;
  clean: boolean;
  lenient: boolean;
  /** --limit NAME=N (repeatable): safety caps raised for a trusted archive. */
  limits: CliLimits;
  help: boolean;
}

const WITH_VALUE = new Set(['a', 'd', 'b', 'z', 'R', 'x']);
const LONG_WITH_VALUE = new Set(['command', 'log', 'zone-config', 'ip-type', 'net', 'host-root', 'host-manifest', 'attach-command', 'config', 'limit']);
const LONG_FLAGS = new Set(['json', 'progress', 'clean', 'lenient', 'help']);

/**
 * Parse getopt style: clustered flags (-up), values attached or separate
 * (-a/x or -a /x), long options, and the hook's two operands.
 */
export function parseInstallArgs(argv: string[]): InstallArgs {
  const seen: { c: string; v?: string }[] = [];
  const long = new Map<string, string[]>();
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (LONG_WITH_VALUE.has(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`option --${name} needs a value`);
        long.set(name, [...(long.get(name) ?? []), v]);
      } else if (LONG_FLAGS.has(name) && eq < 0) {
        long.set(name, ['']);
      } else {
        throw new UsageError(`unknown option --${name}`);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (WITH_VALUE.has(c)) {
          const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
          if (v === undefined) throw new UsageError(`option requires an argument -- ${c}`);
          seen.push({ c, v });
          break;
        }
        if ('psuvh'.includes(c)) seen.push({ c });
        else throw new UsageError(`native brand: invalid option: ${c}`);
      }
      continue;
    }
    operands.push(a);
  }

  const has = (c: string) => seen.some((s) => s.c === c);
  const val = (c: string) => seen.filter((s) => s.c === c).map((s) => s.v!);
  const help = has('h') || long.has('help');

  for (const x of val('x')) if (x !== 'nodataset') throw new UsageError('native brand: invalid option: x');

  let zone = val('z')[0];
  let zonepath = val('R')[0];
  if (zone === undefined && operands.length >= 1) zone = operands.shift()!;
  if (zonepath === undefined && operands.length >= 1) zonepath = operands.shift()!;
  if (operands.length) throw new UsageError(`unexpected argument ${JSON.stringify(operands[0])}`);

  const base = {
    help,
    zone: zone ?? '',
    zonepath: zonepath ?? '',
    backout: val('b'),
    json: long.has('json'),
    progress: long.has('progress'),
    log: long.get('log')?.[0],
    zoneConfig: long.get('zone-config')?.[0],
    net: (long.get('net') ?? []).map(parseNet),
    hostRoot: long.get('host-root')?.[0],
    hostManifest: long.get('host-manifest')?.[0],
    attachCommand: long.get('attach-command')?.[0],
    config: long.get('config')?.[0],
    clean: long.has('clean'),
    lenient: long.has('lenient'),
    limits: parseLimits(long.get('limit')),
    silent: has('s'),
    verbose: has('v'),
    command: long.get('command')?.[0],
  };
  if (help) return { ...base, identity: 'preserve' };

  const ipType = long.get('ip-type')?.[0];
  if (ipType !== undefined && ipType !== 'shared' && ipType !== 'exclusive') throw new UsageError(`--ip-type must be shared or exclusive, not ${JSON.stringify(ipType)}`);

  const archives = val('a');
  const dirs = val('d');
  const media = archives.length + dirs.length + (base.command ? 1 : 0);
  // First stage (sw_support): without -a or -d the other p2v options are refused.
  if (media === 0) {
    for (const c of ['b', 'p', 's', 'u', 'v']) if (has(c)) throw new UsageError(`native brand: option: ${c} is only valid with -a or -d`);
  }
  // Second stage (image_install), in its order.
  if (media > 1) throw new UsageError('zoneadm install: cannot specify both archive and directory');
  if (base.silent && base.verbose) throw new UsageError('zoneadm install: cannot select both silent and verbose modes');
  if (media === 0) throw new UsageError("zoneadm install: you must specify an installation source using '-a' or '-d'.");
  if (has('u') && has('p')) throw new UsageError('zoneadm install: cannot select both preserve and unconfigure options');
  if (!has('u') && !has('p')) throw new UsageError('zoneadm install: you must specify -u (sys-unconfig) or -p (preserve identity).');
  if (!base.zone) throw new UsageError('the zone name is missing: zonep2v install <zonename> <zonepath> ... or -z NAME -R ZONEPATH');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(base.zone)) throw new UsageError(`invalid zone name ${JSON.stringify(base.zone)}`);
  // zonecfg's reserved names: zoneadm would refuse the zone only at attach.
  if (base.zone === 'global' || base.zone.startsWith('SUNW')) throw new UsageError(`${JSON.stringify(base.zone)} is a reserved zone name ('global' and names starting with SUNW are): choose another`);
  if (!base.zonepath) throw new UsageError('the zonepath is missing: zonep2v install <zonename> <zonepath> ... or -z NAME -R ZONEPATH');
  if (!base.zonepath.startsWith('/')) throw new UsageError(`the zonepath must be absolute: ${JSON.stringify(base.zonepath)}`);
  // Solaris's -d - installs the data already in the zonepath; a streaming p2v has nothing to read.
  if (dirs[0] === '-') throw new UsageError("-d -: installing from data already in the zonepath is not supported; give the image with -a ARCHIVE or -d DIRECTORY");
  if (dirs.length && !dirs[0]!.startsWith('/')) throw new UsageError(`Pathname specified to -d '${dirs[0]}' must be absolute.`);
  if (base.hostRoot && base.hostManifest) throw new UsageError('give --host-root or --host-manifest, not both');
  for (const b of base.backout) if (!/^\d{6}-\d{2}$/.test(b)) throw new UsageError(`-b ${JSON.stringify(b)}: a patch id looks like 123456-01`);

  return {
    ...base,
    archive: archives[0],
    dir: dirs[0],
    identity: has('u') ? 'unconfigure' : 'preserve',
    ipType: ipType as InstallArgs['ipType'],
  };
}

function parseNet(s: string): string {
  const m = /^physical=(.+)$/.exec(s);
  if (!m) throw new UsageError(`--net ${JSON.stringify(s)}: expected physical=NAME`);
  return m[1]!;
}
