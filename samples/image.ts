// Synthetic Solaris 10 system image, deterministic from a seed.
//
// makeImage() lays down, in an empty directory, the tree a physical Solaris 10
// global zone would give to `flarcreate` or `find . | cpio -o`: the files p2v
// rewrites (vfstab, dfstab, hostname.*, zones/index, SMF manifests, package
// database), the paths it filters (dev, devices, proc, tmp, var/run, system/*),
// nested zone roots, and bulk content (usr/bin, usr/lib, opt/app) whose size
// scales with `files` and `bytes`. Owners are Solaris numeric ids (root 0:0,
// bin 2:2, sys gid 3, ...). Everything, content and mtimes included, derives
// from the seed, so a test can regenerate the same tree anywhere.

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';

// ---------------------------------------------------------------- types

export interface ImageOptions {
  /** Approximate number of regular files (default 600; the bench uses 20000). */
  files?: number;
  /** Approximate total bytes of regular files (default 8 MiB; the bench uses 300 MB). */
  bytes?: number;
  /** Seed for every name, byte and timestamp (default 1). */
  seed?: number;
  /** Node name of the imaged system (default "legacy01"). */
  hostname?: string;
  /** Lay down the nested zones' zonepaths (default true). The index and xml files are always there. */
  nestedZones?: boolean;
  /** First line of /etc/release (default "Solaris 10 10/09 s10s_u8wos_08a SPARC"); "X86" selects i386. */
  release?: string;
}

export interface NestedZone {
  name: string;
  state: 'installed' | 'configured';
  /** Zonepath as in etc/zones/index (absolute, as on the imaged system). */
  zonepath: string;
  uuid: string;
  /** Whether the zonepath has content in this image. */
  present: boolean;
}

export interface PackageInfo {
  name: string;
  version: string;
  hollow: boolean;
  allZones: boolean;
  patches: string[];
}

export interface ImageManifest {
  root: string;
  seed: number;
  hostname: string;
  release: string;
  arch: 'sparc' | 'i386';
  /** Kernel patch the solaris10 brand sanity check wants (141444-09 / 141445-09), present in SUNWcakr. */
  kernelPatch: string;
  counts: {
    /** Every node below the root (what `find . -mindepth 1` lists). */
    entries: number;
    /** Regular files, counting each name of a hard-link group. */
    files: number;
    dirs: number;
    symlinks: number;
    /** Names that share an inode with an earlier name (group size - 1, summed). */
    hardlinks: number;
    fifos: number;
    charDevices: number;
    blockDevices: number;
  };
  /** Sum of regular file sizes, each inode once. */
  totalBytes: number;
  /** Whether owners and device nodes could be set (needs root). */
  privileged: boolean;
  nestedZones: NestedZone[];
  packages: PackageInfo[];
  /** Paths relative to the root, without a leading slash. */
  paths: {
    vfstab: string;
    dfstab: string;
    zonesIndex: string;
    zoneXml: string[];
    hostnameFiles: string[];
    release: string;
    instRelease: string;
    contents: string;
    smfManifests: string[];
    /** Manifests delivered only by hollow packages (their services p2v deletes). */
    hollowManifests: string[];
    smfUpgradeProfile: string;
    liveUpgrade: string[];
    setuid: string[];
    fifos: string[];
    devices: string[];
    hardlinkGroups: string[][];
    bigFiles: string[];
    /** A name that is not valid UTF-8 (latin1 bytes). */
    nonUtf8: string;
    /** A path longer than 100 bytes (ustar prefix split). */
    longPath: string;
  };
}

// ---------------------------------------------------------------- ids

export const UID = { root: 0, daemon: 1, bin: 2, sys: 3, adm: 4, uucp: 5, lp: 71, smmsp: 25, nobody: 60001, noaccess: 60002, alice: 100, bob: 101 } as const;
export const GID = { root: 0, other: 1, bin: 2, sys: 3, adm: 4, uucp: 5, mail: 6, tty: 7, lp: 8, staff: 10, smmsp: 25, nobody: 60001 } as const;

// ---------------------------------------------------------------- randomness

/** sfc32, seeded through SHA-256 of a label: fast, portable, forkable by name. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(readonly label: string) {
    const h = crypto.createHash('sha256').update(label).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12) | 1;
    for (let i = 0; i < 12; i++) this.u32();
  }
  fork(name: string): Rng {
    return new Rng(`${this.label}/${name}`);
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.float() * a.length)]!;
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  hex(n: number): string {
    let s = '';
    while (s.length < n) s += this.u32().toString(16).padStart(8, '0');
    return s.slice(0, n);
  }
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

const ZERO64K = Buffer.alloc(65536);

/** Deterministic incompressible bytes (AES-128-CTR keystream keyed by a label). */
class Noise {
  private c: crypto.Cipher;
  constructor(label: string) {
    const k = crypto.createHash('sha256').update(`noise:${label}`).digest();
    this.c = crypto.createCipheriv('aes-128-ctr', k.subarray(0, 16), k.subarray(16, 32));
  }
  bytes(n: number): Buffer {
    if (n <= ZERO64K.length) return this.c.update(ZERO64K.subarray(0, n));
    const parts: Buffer[] = [];
    for (let left = n; left > 0; left -= ZERO64K.length) parts.push(this.c.update(ZERO64K.subarray(0, Math.min(left, ZERO64K.length))));
    return Buffer.concat(parts);
  }
}

const WORDS = (
  'the of and to a in is for on that with as by this be are from or it an at not file system ' +
  'zone zones global root usr var etc opt kernel driver module device path directory mount ' +
  'service instance manifest property group method start stop refresh restart svcadm svccfg ' +
  'package patch install remove pkgadd pkgrm patchadd showrev release version revision ' +
  'network interface address netmask broadcast route default gateway host hostname domain ' +
  'nfs share export client server daemon process thread lwp signal core dump swap memory ' +
  'page cache buffer block inode ufs zfs pool dataset snapshot clone volume metadevice mirror ' +
  'slice partition disk controller target lun scsi fibre channel boot archive flash cpio ' +
  'user group owner permission mode setuid sticky access control list attribute ' +
  'error warning notice fatal failed success complete option argument value default ' +
  'Sun Microsystems Solaris SunOS SPARC sun4u sun4v i86pc Generic copyright reserved ' +
  'must should may shall will can cannot does returns specified following each only when ' +
  'if then else fi case esac while done for do echo exit return read write open close'
).split(' ');

/** About `size` bytes of text-like lines (compressible, varied). */
function textPool(rng: Rng, size: number): Buffer {
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const style = rng.int(0, 9);
    let line: string;
    if (style < 5) {
      const w: string[] = [];
      const k = rng.int(4, 14);
      for (let i = 0; i < k; i++) w.push(rng.pick(WORDS));
      line = w.join(' ');
      line = line[0]!.toUpperCase() + line.slice(1) + (rng.chance(0.7) ? '.' : ':');
    } else if (style < 7) {
      line = `${rng.pick(WORDS)}_${rng.pick(WORDS)}=${rng.int(0, 99999)}`;
    } else if (style < 8) {
      line = `\t/usr/${rng.pick(['lib', 'bin', 'sbin', 'share'])}/${rng.pick(WORDS)}/${rng.pick(WORDS)}.${rng.pick(['so.1', 'conf', 'xml', 'h', 'c', 'o'])}`;
    } else {
      line = `.${rng.pick(['SH', 'TP', 'B', 'I', 'PP', 'IP', 'RS', 'RE'])} ${rng.pick(WORDS)} ${rng.pick(WORDS)}`;
    }
    parts.push(line);
    n += line.length + 1;
  }
  return Buffer.from(parts.join('\n') + '\n', 'latin1');
}

// ---------------------------------------------------------------- tree model

type Kind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'char' | 'block';
type PkgType = 'f' | 'e' | 'v' | 'd' | 's' | 'l';

interface Spec {
  path: string;
  kind: Kind;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds, with a microsecond fraction (UFS keeps microseconds). */
  mtime: number;
  /** Small file body. */
  data?: () => Buffer;
  /** Expected body size, for the byte budget. */
  hint?: number;
  /** Large file body streamed in 64 KiB chunks. */
  big?: { size: number; key: string };
  /** Written after everything else (package database files that list sizes). */
  late?: boolean;
  target?: string;
  major?: number;
  minor?: number;
  pkg?: { type: PkgType; cls: string; pkgs: string[] };
}

interface Written {
  size: number;
  sum: number;
}

/** The SVR4 package checksum (pkgmap / contents "cksum" field): byte sum folded to 16 bits. */
export function pkgSum(buf: Buffer, acc = 0): number {
  let s = acc;
  for (let i = 0; i < buf.length; i++) s = (s + buf[i]!) >>> 0;
  return s;
}
function foldSum(s: number): number {
  const t = (s & 0xffff) + ((s >>> 16) & 0xffff);
  return (t & 0xffff) + (t >>> 16);
}

class Tree {
  readonly specs = new Map<string, Spec>();
  constructor(private defaultTime: () => number) {}
  dir(p: string, mode = 0o755, uid: number = UID.root, gid: number = GID.sys, mtime?: number, pkgs?: string[]): Spec {
    this.parent(p);
    const old = this.specs.get(p);
    const s: Spec = { path: p, kind: 'dir', mode, uid, gid, mtime: mtime ?? old?.mtime ?? this.defaultTime() };
    if (pkgs) s.pkg = { type: 'd', cls: 'none', pkgs };
    this.specs.set(p, s);
    return s;
  }
  private parent(p: string) {
    const d = path.posix.dirname(p);
    if (d !== '.' && !this.specs.has(d)) this.dir(d);
  }
  add(s: Spec): Spec {
    if (this.specs.has(s.path)) throw new Error(`sample image: duplicate path ${s.path}`);
    this.parent(s.path);
    this.specs.set(s.path, s);
    return s;
  }
  file(p: string, data: string | Buffer | (() => Buffer), o: Partial<Spec> = {}): Spec {
    const d = typeof data === 'function' ? data : () => (typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    const hint = typeof data === 'function' ? (data as { hint?: number }).hint : data.length;
    return this.add({ path: p, kind: 'file', mode: 0o644, uid: UID.root, gid: GID.sys, mtime: this.defaultTime(), hint, ...o, data: d });
  }
  symlink(p: string, target: string, o: Partial<Spec> = {}): Spec {
    return this.add({ path: p, kind: 'symlink', mode: 0o777, uid: UID.root, gid: GID.root, mtime: this.defaultTime(), ...o, target });
  }
  hardlink(p: string, target: string, o: Partial<Spec> = {}): Spec {
    const t = this.specs.get(target);
    if (!t || t.kind !== 'file') throw new Error(`sample image: hard link ${p} to missing ${target}`);
    return this.add({ path: p, kind: 'hardlink', mode: t.mode, uid: t.uid, gid: t.gid, mtime: t.mtime, ...o, target });
  }
  node(p: string, kind: 'fifo' | 'char' | 'block', mode: number, uid: number, gid: number, major = 0, minor = 0, mtime?: number): Spec {
    return this.add({ path: p, kind, mode, uid, gid, mtime: mtime ?? this.defaultTime(), major, minor });
  }
}

// ---------------------------------------------------------------- content helpers

function center(s: string, width: number): string {
  return ' '.repeat(Math.max(0, Math.floor((width - s.length) / 2))) + s;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
function solDate(t: number): string {
  // `date` style, in US/Pacific as an installer log would show (DST approximated by month).
  const d = new Date((Math.floor(t) - 7 * 3600) * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const dst = d.getUTCMonth() >= 2 && d.getUTCMonth() <= 9;
  if (!dst) d.setTime(d.getTime() - 3600 * 1000);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${dst ? 'PDT' : 'PST'} ${d.getUTCFullYear()}`;
}
function instDate(t: number): string {
  const d = new Date(Math.floor(t) * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}`;
}

/** An ELF-looking executable or shared object: header, "code" noise, then a string table. */
function elfBody(noise: Noise, text: Buffer, rng: Rng, size: number, arch: 'sparc' | 'i386', shared: boolean): Buffer {
  const b = Buffer.alloc(Math.max(size, 64));
  const be = arch === 'sparc';
  b.write('\x7fELF', 0, 'latin1');
  b[4] = 1; // 32-bit
  b[5] = be ? 2 : 1;
  b[6] = 1;
  const w16 = (v: number, o: number) => (be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  const w32 = (v: number, o: number) => (be ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
  w16(shared ? 3 : 2, 16);
  w16(be ? 2 : 3, 18);
  w32(1, 20);
  w32(be ? 0x10000 + rng.int(0, 0xfff) * 4 : 0x8050000 + rng.int(0, 0xfff) * 4, 24);
  w32(52, 28);
  w16(52, 40);
  const codeEnd = 64 + Math.floor((b.length - 64) * (0.45 + rng.float() * 0.3));
  if (codeEnd > 64) noise.bytes(codeEnd - 64).copy(b, 64);
  const strings = `\0/usr/lib/ld.so.1\0libc.so.1\0SUNW_1.22\0SUNWprivate_1.1\0@(#)SunOS 5.10 Generic ${rng.pick(['141444-09', '137137-09', '118833-36'])} ${rng.pick(MONTHS)} 2009\0`;
  let o = codeEnd;
  o += b.write(strings, o, 'latin1');
  while (o < b.length) {
    const off = rng.int(0, text.length - 1);
    o += text.copy(b, o, off, Math.min(text.length, off + (b.length - o)));
  }
  return b;
}

/** A text file of about `size` bytes, with a header line. */
function textBody(text: Buffer, rng: Rng, size: number, header: string): Buffer {
  const b = Buffer.alloc(Math.max(size, header.length));
  let o = b.write(header, 0, 'latin1');
  while (o < b.length) {
    const off = rng.int(0, text.length - 1);
    o += text.copy(b, o, off, Math.min(text.length, off + (b.length - o)));
  }
  return b;
}

function smfManifest(bundle: string, service: string, instances: { name: string; enabled: boolean }[] | 'create-default', exec: string, ident: string, extra = ''): string {
  const inst =
    instances === 'create-default'
      ? `\t<create_default_instance enabled='false' />\n\n\t<single_instance />\n`
      : instances.map((i) => `\t<instance name='${i.name}' enabled='${i.enabled}'>\n\t\t<property_group name='general' type='framework'>\n\t\t\t<propval name='action_authorization' type='astring'\n\t\t\t\tvalue='solaris.smf.manage.${service.split('/').pop()}' />\n\t\t</property_group>\n\t</instance>\n`).join('\n');
  return `<?xml version="1.0"?>
<!DOCTYPE service_bundle SYSTEM "/usr/share/lib/xml/dtd/service_bundle.dtd.1">
<!--
 Copyright 2009 Sun Microsystems, Inc.  All rights reserved.
 Use is subject to license terms.

 CDDL HEADER START

 The contents of this file are subject to the terms of the
 Common Development and Distribution License (the "License").
 You may not use this file except in compliance with the License.

 CDDL HEADER END

	ident	"@(#)${ident}	1.${ident.length % 9 + 1}	09/03/16 SMI"

	NOTE:  This service manifest is not editable; its contents will
	be overwritten by package or patch operations, including
	operating system upgrade.  Make customizations in a different
	file.
-->

<service_bundle type='manifest' name='${bundle}'>

<service
	name='${service}'
	type='service'
	version='1'>

${inst}
	<dependency
		name='loopback'
		grouping='require_all'
		restart_on='error'
		type='service'>
		<service_fmri value='svc:/network/loopback' />
	</dependency>

	<dependency
		name='fs-local'
		grouping='require_all'
		restart_on='none'
		type='service'>
		<service_fmri value='svc:/system/filesystem/local' />
	</dependency>
${extra}
	<exec_method
		type='method'
		name='start'
		exec='${exec} start'
		timeout_seconds='60' />

	<exec_method
		type='method'
		name='stop'
		exec=':kill'
		timeout_seconds='60' />

	<stability value='Unstable' />

	<template>
		<common_name>
			<loctext xml:lang='C'>
				${service.split('/').pop()} service
			</loctext>
		</common_name>
	</template>
</service>

</service_bundle>
`;
}

// ---------------------------------------------------------------- the image

const DEFAULT_RELEASE = 'Solaris 10 10/09 s10s_u8wos_08a SPARC';

interface PkgDef {
  name: string;
  desc: string;
  long: string;
  allZones: boolean;
  hollow: boolean;
  thisZone?: boolean;
  version: string;
  arch?: string;
  type: 'root' | 'usr';
  vendor?: string;
  patches: string[];
  depends: string[];
  pspool?: boolean;
  classes?: string;
}

export async function makeImage(dir: string, opts: ImageOptions = {}): Promise<ImageManifest> {
  const seed = opts.seed ?? 1;
  const nFiles = Math.max(1, Math.floor(opts.files ?? 600));
  const nBytes = Math.max(1 << 20, Math.floor(opts.bytes ?? 8 * 1024 * 1024));
  const hostname = opts.hostname ?? 'legacy01';
  const nested = opts.nestedZones ?? true;
  const release = opts.release ?? DEFAULT_RELEASE;
  const arch: 'sparc' | 'i386' = /\bx86\b|i386|\bX86\b/i.test(release) ? 'i386' : 'sparc';
  const kernelPatch = arch === 'sparc' ? '141444-09' : '141445-09';
  const privileged = typeof process.getuid === 'function' && process.getuid() === 0;

  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory() || fs.readdirSync(dir).length > 0) throw new Error(`makeImage: ${dir} must be an empty directory`);
  } else fs.mkdirSync(dir, { recursive: true });
  const root = path.resolve(dir);

  const rng = new Rng(`zonep2v-sample:${seed}`);
  const R = (name: string) => rng.fork(name);
  const text = textPool(R('textpool'), 256 * 1024);

  // Timeline: packages built Jan 2005, system installed Oct 2009, patched and
  // configured afterwards, image taken mid 2013.
  const tr = R('times');
  const T_BUILD = 1106326380 + tr.int(0, 3600);
  const T_INSTALL = 1254492000 + tr.int(0, 86400 * 3);
  const T_CONFIG = T_INSTALL + 86400 * tr.int(20, 400);
  const T_SNAP = 1371000000 + tr.int(0, 86400 * 30);
  const jit = (r: Rng, base: number, spread: number) => base + r.int(0, spread) + r.int(0, 999999) / 1e6;
  const tDef = R('deftime');
  const tree = new Tree(() => jit(tDef, T_INSTALL, 86400 * 30));
  const tPkg = R('pkgtime');
  const pkgT = () => jit(tPkg, T_BUILD, 86400 * 400);
  const cfgT = () => jit(tPkg, T_CONFIG, 86400 * 200);
  const snapT = () => jit(tPkg, T_SNAP - 86400 * 5, 86400 * 5);

  const SYS = { uid: UID.root, gid: GID.sys };
  const BIN = { uid: UID.root, gid: GID.bin };
  const f = (p: string, data: string | Buffer | (() => Buffer), o: Partial<Spec> = {}) => tree.file(p, data, o);
  const pk = (type: PkgType, ...pkgs: string[]) => ({ type, cls: 'none', pkgs });

  const isa = arch === 'sparc' ? 'sparcv9' : 'amd64';
  const platform = arch === 'sparc' ? 'sun4u' : 'i86pc';
  const platName = arch === 'sparc' ? 'SUNW,Sun-Fire-V240' : 'i86pc';
  const pkgArch = arch === 'sparc' ? 'sparc' : 'i386';
  const netr = R('net');
  const subnet = `192.168.${netr.int(1, 250)}`;
  const ip = `${subnet}.${netr.int(10, 200)}`;
  const nfsHost = `nfs${netr.int(1, 9)}`;
  const domain = netr.pick(['example.com', 'corp.example.net', 'lab.example.org']);

  // ---------------------------------------------------------- top level
  for (const [d, mode, uid, gid] of [
    ['etc', 0o755, UID.root, GID.sys],
    ['usr', 0o755, UID.root, GID.sys],
    ['usr/bin', 0o755, UID.root, GID.bin],
    ['usr/sbin', 0o755, UID.root, GID.bin],
    ['usr/lib', 0o755, UID.root, GID.bin],
    ['usr/share', 0o755, UID.root, GID.sys],
    ['var', 0o755, UID.root, GID.sys],
    ['lib', 0o755, UID.root, GID.bin],
    ['sbin', 0o755, UID.root, GID.sys],
    ['kernel', 0o755, UID.root, GID.sys],
    ['platform', 0o755, UID.root, GID.sys],
    ['opt', 0o755, UID.root, GID.sys],
    ['export', 0o755, UID.root, GID.sys],
    ['export/home', 0o755, UID.root, GID.root],
    ['dev', 0o755, UID.root, GID.sys],
    ['devices', 0o755, UID.root, GID.sys],
    ['proc', 0o555, UID.root, GID.root],
    ['system', 0o755, UID.root, GID.root],
    ['system/contract', 0o555, UID.root, GID.root],
    ['system/object', 0o555, UID.root, GID.root],
    ['tmp', 0o1777, UID.root, GID.sys],
    ['var/tmp', 0o1777, UID.root, GID.sys],
    ['var/run', 0o755, UID.root, GID.sys],
    ['var/mail', 0o1777, UID.root, GID.mail],
    ['mnt', 0o755, UID.root, GID.sys],
    ['home', 0o555, UID.root, GID.root],
    ['net', 0o555, UID.root, GID.root],
    ['lost+found', 0o700, UID.root, GID.root],
  ] as const) tree.dir(d, mode, uid, gid);
  tree.symlink('bin', './usr/bin');
  tree.symlink('usr/spool', '../var/spool');
  tree.symlink('usr/tmp', '../var/tmp');

  // ---------------------------------------------------------- etc
  f('etc/vfstab', vfstab(subnet, nfsHost), { ...SYS, mtime: cfgT(), pkg: pk('e', 'SUNWcsr') });
  tree.dir('etc/dfs', 0o755, UID.root, GID.sys);
  f('etc/dfs/dfstab', dfstab(), { ...SYS, mtime: cfgT(), pkg: pk('e', 'SUNWcsr') });
  f('etc/dfs/sharetab', `/export/home\t-\tnfs\trw\t\n/export/install\t-\tnfs\tro,anon=0\tinstall images\n`, { mode: 0o444, ...SYS, mtime: snapT() });
  f('etc/dfs/fstypes', 'nfs NFS Utilities\nautofs AUTOFS Utilities\n', { ...SYS, pkg: pk('e', 'SUNWcsr') });
  f(`etc/hostname.e1000g0`, `${hostname}\n`, { ...SYS, mtime: cfgT() });
  f(`etc/hostname6.e1000g0`, '', { ...SYS, mtime: cfgT() });
  tree.dir('etc/inet', 0o755, UID.root, GID.sys);
  f('etc/inet/hosts', `#\n# Internet host table\n#\n::1\tlocalhost\n127.0.0.1\tlocalhost\n${ip}\t${hostname}\t${hostname}.${domain}\tloghost\n${subnet}.5\t${nfsHost}\n`, { mode: 0o444, ...SYS, mtime: cfgT(), pkg: pk('e', 'SUNWcsr') });
  tree.symlink('etc/inet/ipnodes', './hosts', { pkg: pk('s', 'SUNWcsr') });
  tree.symlink('etc/hosts', './inet/hosts', { pkg: pk('s', 'SUNWcsr') });
  f('etc/inet/netmasks', `#\n# The netmasks file associates Internet Protocol (IP) address\n# masks with IP network numbers.\n#\n# \tnetwork-number\tnetmask\n#\n# The term network-number refers to a number obtained from the Internet Network\n# Information Center.\n#\n# Both the network-number and the netmasks are specified in\n# "decimal dot" notation, e.g:\n#\n# \t\t128.32.0.0 255.255.255.0\n#\n${subnet}.0\t255.255.255.0\n`, { mode: 0o444, ...SYS, mtime: cfgT(), pkg: pk('e', 'SUNWcsr') });
  tree.symlink('etc/netmasks', './inet/netmasks', { pkg: pk('s', 'SUNWcsr') });
  f('etc/nodename', `${hostname}\n`, { ...SYS, mtime: cfgT() });
  f('etc/defaultrouter', `${subnet}.1\n`, { ...SYS, mtime: cfgT() });
  f('etc/defaultdomain', `${domain}\n`, { ...SYS, mtime: cfgT() });
  f('etc/resolv.conf', `domain ${domain}\nnameserver ${subnet}.2\nnameserver ${subnet}.3\nsearch ${domain}\n`, { ...SYS, mtime: cfgT() });
  f('etc/nsswitch.conf', '#\n# /etc/nsswitch.dns:\n#\npasswd:     files\ngroup:      files\nhosts:      files dns\nipnodes:    files dns\nnetworks:   files\nprotocols:  files\nrpc:        files\nethers:     files\nnetmasks:   files\nbootparams: files\npublickey:  files\nnetgroup:   files\nautomount:  files\naliases:    files\nservices:   files\nprinters:   user files\nauth_attr:  files\nprof_attr:  files\nproject:    files\ntnrhtp:     files\ntnrhdb:     files\n', { ...SYS, mtime: cfgT(), pkg: pk('e', 'SUNWcsr') });
  const pw = R('passwd');
  const crypt13 = () => {
    const a = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    let s = '';
    for (let i = 0; i < 13; i++) s += a[pw.int(0, 63)];
    return s;
  };
  f('etc/passwd', [
    'root:x:0:0:Super-User:/:/sbin/sh', 'daemon:x:1:1::/:', 'bin:x:2:2::/usr/bin:', 'sys:x:3:3::/:', 'adm:x:4:4:Admin:/var/adm:',
    'lp:x:71:8:Line Printer Admin:/usr/spool/lp:', 'uucp:x:5:5:uucp Admin:/usr/lib/uucp:', 'nuucp:x:9:9:uucp Admin:/var/spool/uucppublic:/usr/lib/uucp/uucico',
    'smmsp:x:25:25:SendMail Message Submission Program:/:', 'listen:x:37:4:Network Admin:/usr/net/nls:', 'gdm:x:50:50:GDM Reserved UID:/:',
    'webservd:x:80:80:WebServer Reserved UID:/:', 'postgres:x:90:90:PostgreSQL Reserved UID:/:/usr/bin/pfksh', 'svctag:x:95:12:Service Tag UID:/:',
    'nobody:x:60001:60001:NFS Anonymous Access User:/:', 'noaccess:x:60002:60002:No Access User:/:', 'nobody4:x:65534:65534:SunOS 4.x NFS Anonymous Access User:/:',
    'alice:x:100:10:Alice Operator:/export/home/alice:/bin/ksh', 'bob:x:101:10:Bob Developer:/export/home/bob:/bin/bash', '',
  ].join('\n'), { mode: 0o644, ...SYS, mtime: cfgT(), pkg: pk('e', 'SUNWcsr') });
  const lastchg = Math.floor(T_CONFIG / 86400);
  f('etc/shadow', [
    `root:${crypt13()}:${lastchg}::::::`, 'daemon:NP:6445::::::', 'bin:NP:6445::::::', 'sys:NP:6445::::::', 'adm:NP:6445::::::', 'lp:NP:6445::::::',
    'uucp:NP:6445::::::', 'nuucp:NP:6445::::::', 'smmsp:NP:6445::::::', 'listen:*LK*:::::::', 'gdm:*LK*:::::::', 'webservd:*LK*:::::::',
    'postgres:NP:::::::', 'svctag:*LK*:6445::::::', 'nobody:*LK*:6445::::::', 'noaccess:*LK*:6445::::::', 'nobody4:*LK*:6445::::::',
    `alice:${crypt13()}:${lastchg + 3}::::::`, `bob:${crypt13()}:${lastchg + 40}::::::`, '',
  ].join('\n'), { mode: 0o400, ...SYS, mtime: cfgT(), pkg: pk('e', 'SUNWcsr') });
  f('etc/group', 'root::0:\nother::1:root\nbin::2:root,daemon\nsys::3:root,bin,adm\nadm::4:root,daemon\nuucp::5:root\nmail::6:root\ntty::7:root,adm\nlp::8:root,adm\nnuucp::9:root\nstaff::10:\ndaemon::12:root\nsysadmin::14:\nsmmsp::25:\ngdm::50:\nwebservd::80:\npostgres::90:\nnobody::60001:\nnoaccess::60002:\nnogroup::65534:\n', { ...SYS, mtime: cfgT(), pkg: pk('e', 'SUNWcsr') });
  f('etc/release', `${center(release, 62)}\n           Copyright 2009 Sun Microsystems, Inc.  All Rights Reserved.\n                        Use is subject to license terms.\n                           Assembled 16 September 2009\n`, { mode: 0o444, ...SYS, mtime: T_INSTALL + 0.5, pkg: pk('f', 'SUNWsolnm') });
  f('etc/system', etcSystem(), { mode: 0o644, ...SYS, mtime: cfgT(), pkg: pk('e', 'SUNWckr') });
  f('etc/inittab', inittab(), { mode: 0o644, ...SYS, mtime: pkgT(), pkg: pk('e', 'SUNWcsr') });
  f('etc/mnttab', '', { mode: 0o444, uid: UID.root, gid: GID.root, mtime: snapT() });
  tree.node('etc/initpipe', 'fifo', 0o600, UID.root, GID.root, 0, 0, snapT());
  f('etc/motd', `Sun Microsystems Inc.   SunOS 5.10      Generic January 2005\n`, { ...SYS, pkg: pk('e', 'SUNWcsr') });
  f('etc/TIMEZONE', '#\n# Copyright 1992, 1999-2002 Sun Microsystems, Inc.  All rights reserved.\n#\nTZ=US/Pacific\nCMASK=022\n', { ...SYS, mtime: cfgT() });
  tree.dir('etc/default', 0o755, UID.root, GID.sys);
  f('etc/default/init', '#\nTZ=US/Pacific\nCMASK=022\nLC_COLLATE=\nLC_CTYPE=\nLC_MESSAGES=\nLC_MONETARY=\nLC_NUMERIC=\nLC_TIME=\n', { ...SYS, mtime: cfgT(), pkg: pk('e', 'SUNWcsr') });
  f('etc/default/login', '#\nCONSOLE=/dev/console\nPASSREQ=YES\nTIMEOUT=300\nUMASK=022\nSYSLOG=YES\nSLEEPTIME=4\n', { mode: 0o444, ...SYS, pkg: pk('e', 'SUNWcsr') });
  tree.symlink('etc/log', '/var/adm/log');
  tree.symlink('etc/rc2', '../sbin/rc2', { pkg: pk('s', 'SUNWcsr') });
  tree.dir('etc/ssh', 0o755, UID.root, GID.sys);
  f('etc/ssh/sshd_config', '# sshd_config\nProtocol 2\nPort 22\nListenAddress ::\nAllowTcpForwarding no\nGatewayPorts no\nX11Forwarding yes\nPermitRootLogin no\nSubsystem sftp /usr/lib/ssh/sftp-server\n', { ...SYS, mtime: cfgT() });
  f('etc/ssh/ssh_host_rsa_key', () => Buffer.from(`-----BEGIN RSA PRIVATE KEY-----\n${new Noise(`hostkey${seed}`).bytes(600).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END RSA PRIVATE KEY-----\n`), { mode: 0o600, ...SYS, mtime: T_INSTALL + 7200.25 });

  // Zones configuration: the global and two non-global zones.
  const zr = R('zones');
  const zones: NestedZone[] = [
    { name: 'zone1', state: 'installed', zonepath: '/zones/zone1', uuid: zr.uuid(), present: nested },
    { name: 'zone2', state: 'configured', zonepath: '/export/zone2', uuid: zr.uuid(), present: nested },
  ];
  tree.dir('etc/zones', 0o755, UID.root, GID.sys);
  f('etc/zones/index', zonesIndex(zones), { ...SYS, mtime: cfgT(), pkg: pk('e', 'SUNWzoner') });
  for (const z of zones) f(`etc/zones/${z.name}.xml`, zoneXml(z, subnet), { ...SYS, mtime: cfgT() });
  f('etc/zones/SUNWdefault.xml', zoneXml({ name: '', state: 'configured', zonepath: '', uuid: '', present: false }, subnet, true), { mode: 0o444, ...SYS, pkg: pk('f', 'SUNWzoner') });

  // Live Upgrade leftovers (p2v's fix_lu removes them).
  tree.dir('etc/lu', 0o755, UID.root, GID.sys);
  f('etc/lutab', `# DO NOT EDIT THIS FILE BY HAND. This file is not a public interface.\n1:s10u8:C:0\n1:/:/dev/dsk/c0t0d0s0:1\n1:boot-device:/dev/dsk/c0t0d0s0:2\n`, { ...SYS, mtime: cfgT() });
  f('etc/lu/.BE_CONFIG', `LUBECF_BE_ID=1\nLUBECF_BE_NAME=s10u8\nLUBECF_PBE_ID=1\n`, { ...SYS, mtime: cfgT() });
  f('etc/lu/.CURR_VARS', `LU_CURR_BE_NAME=s10u8\n`, { ...SYS, mtime: cfgT() });
  f('etc/lu/ICF.1', `s10u8:/:/dev/dsk/c0t0d0s0:ufs:20972736\ns10u8:-:/dev/dsk/c0t0d0s1:swap:4194828\n`, { ...SYS, mtime: cfgT() });
  f('etc/lu/vtoc.1', `* /dev/rdsk/c0t0d0s2 partition map\n       0      2    00          0  20972736  20972735\n`, { ...SYS, mtime: cfgT() });

  // SMF state.
  tree.dir('etc/svc', 0o755, UID.root, GID.sys);
  tree.dir('etc/svc/volatile', 0o755, UID.root, GID.sys);
  f('etc/svc/repository.db', emptySqlite(), { mode: 0o600, ...SYS, mtime: snapT() });

  // ---------------------------------------------------------- lib, sbin, svc methods
  const noise = (p: string) => new Noise(`${seed}:${p}`);
  const sized = (n: number, fn: () => Buffer) => Object.assign(fn, { hint: n });
  const elfRaw = (p: string, size: number, shared = false) => sized(size, () => elfBody(noise(p), text, R(`elf:${p}`), size, arch, shared));
  // Fixed binaries shrink with small byte budgets so that `bytes` stays meaningful down to ~1 MiB.
  const sc = Math.min(1, nBytes / (8 * 1024 * 1024));
  const elf = (p: string, size: number, shared = false) => elfRaw(p, Math.max(512, Math.floor(size * sc)), shared);
  const txt = (key: string, size: number, header: string) => sized(size, () => textBody(text, R(key), size, header));
  f('lib/libc.so.1', elf('lib/libc.so.1', Math.floor(nBytes * 0.012), true), { mode: 0o755, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWcsl') });
  tree.symlink('lib/libc.so', './libc.so.1', { pkg: pk('s', 'SUNWcsl') });
  tree.symlink('usr/lib/libc.so.1', '../../lib/libc.so.1', { pkg: pk('s', 'SUNWcsl') });
  f('lib/ld.so.1', elf('lib/ld.so.1', 40000, true), { mode: 0o755, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWcsr') });
  f('lib/libnsl.so.1', elf('lib/libnsl.so.1', 60000, true), { mode: 0o755, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWcsl') });
  tree.dir('lib/svc', 0o755, UID.root, GID.bin);
  tree.dir('lib/svc/method', 0o755, UID.root, GID.bin);
  for (const m of ['svc-route', 'nfs-server', 'fs-local', 'svc-pools', 'svc-poold', 'svc-metainit', 'net-physical', 'sshd', 'svc-smbd']) {
    f(`lib/svc/method/${m}`, `#!/sbin/sh\n#\n# Copyright 2009 Sun Microsystems, Inc.  All rights reserved.\n# Use is subject to license terms.\n#\n. /lib/svc/share/smf_include.sh\n\ncase "$1" in\n'start')\n\t/usr/lib/${m.replace('svc-', '')} || exit $SMF_EXIT_ERR_FATAL\n\t;;\n'stop')\n\tsmf_kill_contract $2 TERM 1\n\t;;\n*)\n\techo "Usage: $0 { start | stop }"\n\texit 1\n\t;;\nesac\nexit $SMF_EXIT_OK\n`, { mode: 0o555, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWcsr') });
  }
  tree.dir('lib/svc/share', 0o755, UID.root, GID.bin);
  f('lib/svc/share/smf_include.sh', `#!/bin/sh\nSMF_EXIT_OK=0\nSMF_EXIT_ERR_FATAL=95\nSMF_EXIT_ERR_CONFIG=96\nSMF_EXIT_MON_DEGRADE=97\nSMF_EXIT_MON_OFFLINE=98\nSMF_EXIT_ERR_NOSMF=99\nSMF_EXIT_ERR_PERM=100\nsmf_present () {\n\t[ -r /etc/svc/volatile/repository_door ] && \\\n\t    [ ! -f /etc/svc/volatile/repository_door ]\n}\nsmf_is_globalzone() {\n\t[ "\`/sbin/zonename\`" = "global" ] && return 0\n\treturn 1\n}\n`, { mode: 0o444, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWcsr') });
  tree.dir('lib/svc/bin', 0o755, UID.root, GID.bin);
  f('lib/svc/bin/svc.startd', elf('lib/svc/bin/svc.startd', 90000), { mode: 0o555, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWcsr') });
  f('lib/svc/bin/svc.configd', elf('lib/svc/bin/svc.configd', 70000), { mode: 0o555, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWcsr') });
  for (const s of ['sh', 'init', 'zonename', 'mount', 'umount', 'ifconfig', 'sulogin', 'su.static', 'rc2', 'rcS']) {
    f(`sbin/${s}`, elf(`sbin/${s}`, R(`size:sbin/${s}`).int(6000, 60000)), { mode: 0o555, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWcsr') });
  }

  // ---------------------------------------------------------- kernel (hollow packages)
  const kb = (n: number) => Math.max(4096, Math.floor(nBytes * n));
  f(`kernel/${isa === 'sparcv9' ? 'sparcv9/genunix' : 'amd64/genunix'}`, elf('genunix', kb(0.03)), { mode: 0o755, ...SYS, mtime: pkgT(), pkg: pk('f', 'SUNWckr') });
  f(`kernel/drv/${isa}/md`, elf('md', kb(0.004)), { mode: 0o755, ...SYS, mtime: pkgT(), pkg: pk('f', 'SUNWmdr') });
  f('kernel/drv/md.conf', '#\n# Copyright 2009 Sun Microsystems, Inc.\n#\nname="md" parent="pseudo" nmd=128 md_nsets=4;\n', { ...SYS, mtime: cfgT(), pkg: pk('e', 'SUNWmdr') });
  f(`kernel/drv/${isa}/sd`, elf('sd', kb(0.006)), { mode: 0o755, ...SYS, mtime: pkgT(), pkg: pk('f', 'SUNWckr') });
  f(`platform/${platform}/kernel/${isa}/unix`, elf('unix', kb(0.02)), { mode: 0o755, ...SYS, mtime: pkgT(), pkg: pk('f', 'SUNWcakr') });
  f(`platform/${platform}/boot_archive`, txt('boot_archive', kb(0.01), 'boot archive\n'), { mode: 0o644, uid: UID.root, gid: GID.root, mtime: snapT() });

  // ---------------------------------------------------------- usr
  const hl: string[][] = [];
  const bin = (name: string, size: number, mode = 0o555, o: Partial<Spec> = {}) =>
    f(`usr/bin/${name}`, elf(`usr/bin/${name}`, size), { mode, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWcsu'), ...o });
  const br = R('usrbin');
  for (const c of USR_BIN) bin(c, br.int(2000, 16000));
  bin('test', 8420);
  tree.hardlink('usr/bin/[', 'usr/bin/test', { pkg: pk('l', 'SUNWcsu') });
  hl.push(['usr/bin/test', 'usr/bin/[']);
  bin('ksh', 210000);
  tree.hardlink('usr/bin/rksh', 'usr/bin/ksh', { pkg: pk('l', 'SUNWcsu') });
  tree.hardlink('usr/bin/pfksh', 'usr/bin/ksh', { pkg: pk('l', 'SUNWcsu') });
  hl.push(['usr/bin/ksh', 'usr/bin/rksh', 'usr/bin/pfksh']);
  bin('passwd', 27228, 0o6555, { uid: UID.root, gid: GID.sys });
  tree.hardlink('usr/bin/yppasswd', 'usr/bin/passwd', { pkg: pk('l', 'SUNWcsu') });
  tree.hardlink('usr/bin/nispasswd', 'usr/bin/passwd', { pkg: pk('l', 'SUNWcsu') });
  hl.push(['usr/bin/passwd', 'usr/bin/yppasswd', 'usr/bin/nispasswd']);
  bin('su', 23000, 0o4555, { uid: UID.root, gid: GID.sys });
  bin('at', 41000, 0o4755, { uid: UID.root, gid: GID.sys });
  f('usr/bin/write', elf('usr/bin/write', 14000), { mode: 0o2555, uid: UID.root, gid: GID.tty, mtime: pkgT(), pkg: pk('f', 'SUNWcsu') });
  tree.symlink('usr/bin/sh', './ksh');
  tree.symlink('usr/lib/sendmail', '/usr/lib/smtp/sendmail/sendmail');
  tree.dir('usr/lib/smtp/sendmail', 0o755, UID.root, GID.bin);
  f('usr/lib/smtp/sendmail/sendmail', elf('sendmail', Math.min(800000, Math.floor(nBytes / 40))), { mode: 0o2555, uid: UID.root, gid: GID.smmsp, mtime: pkgT(), pkg: pk('f', 'SUNWsndmu') });
  for (const s of ['zoneadm', 'zonecfg']) f(`usr/sbin/${s}`, elf(`usr/sbin/${s}`, 90000), { mode: 0o555, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWzoneu') });
  for (const s of ['svcadm', 'svccfg', 'pkgadd', 'pkgrm', 'patchadd', 'flarcreate', 'metastat', 'share', 'shareall']) f(`usr/sbin/${s}`, elf(`usr/sbin/${s}`, br.int(8000, 60000)), { mode: 0o555, ...BIN, mtime: pkgT(), pkg: pk('f', s.startsWith('meta') ? 'SUNWmdu' : s.startsWith('share') ? 'SUNWnfssu' : 'SUNWcsu') });
  for (const s of ['nfsd', 'mountd', 'lockd', 'statd']) f(`usr/lib/nfs/${s}`, elf(`usr/lib/nfs/${s}`, br.int(20000, 70000)), { mode: 0o555, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWnfssu') });
  for (const s of ['in.routed', 'in.ripngd']) f(`usr/sbin/${s}`, elf(`usr/sbin/${s}`, br.int(20000, 70000)), { mode: 0o555, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWroute') });
  f('usr/sbin/lucreate', elf('usr/sbin/lucreate', 30000), { mode: 0o555, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWluu') });
  f('usr/sbin/vxdisk', elf('usr/sbin/vxdisk', 50000), { mode: 0o555, ...BIN, mtime: pkgT(), pkg: pk('f', 'VRTSvxvm') });
  // Larger libraries.
  const libShare = nBytes * 0.1;
  const lr = R('libs');
  const libNames = ['libnsl.so.1', 'libsocket.so.1', 'libxml2.so.2', 'libcrypto.so.0.9.7', 'libssl.so.0.9.7', 'libgss.so.1', 'libzonecfg.so.1', 'libscf.so.1'];
  const libW = libNames.map(() => 0.3 + lr.float());
  const wSum = libW.reduce((a, b) => a + b, 0);
  libNames.forEach((n, i) => {
    const size = Math.max(4096, Math.floor((libShare * libW[i]!) / wSum));
    const p = `usr/lib/${n}`;
    const o = { mode: 0o755, ...BIN, mtime: pkgT(), pkg: pk('f', n.includes('zone') ? 'SUNWzoneu' : 'SUNWcsl') };
    if (size > 256 * 1024) tree.add({ path: p, kind: 'file', ...o, big: { size, key: p } });
    else f(p, elf(p, size, true), o);
  });
  // A long path (over 100 bytes: needs the ustar prefix field).
  const longPath = 'usr/share/lib/xml/dtd/service_bundle.d/examples/network/routing/legacy-routing-configuration-for-ripng-and-routed.xml';
  f(longPath, smfManifest('SUNWroute:legacy', 'network/routing/legacy-routing', 'create-default', '/lib/svc/method/svc-route', 'legacy.xml'), { mode: 0o444, ...SYS, mtime: pkgT() });

  // ---------------------------------------------------------- var/svc
  const manifests: { path: string; pkg: string; body: string }[] = [
    { path: 'network/nfs/server.xml', pkg: 'SUNWnfssr', body: smfManifest('SUNWnfssr:nfs-server', 'network/nfs/server', 'create-default', '/lib/svc/method/nfs-server', 'server.xml') },
    { path: 'network/routing/route.xml', pkg: 'SUNWroute', body: smfManifest('SUNWroute:route', 'network/routing/route', [{ name: 'default', enabled: false }], '/lib/svc/method/svc-route', 'route.xml') },
    { path: 'network/routing-setup.xml', pkg: 'SUNWroute', body: smfManifest('SUNWroute:routing-setup', 'network/routing-setup', [{ name: 'default', enabled: true }], '/lib/svc/method/svc-route', 'routing-setup.xml') },
    { path: 'network/network-physical.xml', pkg: 'SUNWcsr', body: smfManifest('SUNWcsr:physical', 'network/physical', [{ name: 'default', enabled: true }, { name: 'nwam', enabled: false }], '/lib/svc/method/net-physical', 'network-physical.xml') },
    { path: 'network/shares/group.xml', pkg: 'SUNWcsr', body: smfManifest('SUNWcsr:group', 'network/shares/group', [{ name: 'default', enabled: true }, { name: 'zfs', enabled: true }], '/usr/sbin/shareall', 'group.xml') },
    { path: 'network/smb/server.xml', pkg: 'SUNWsmbsr', body: smfManifest('SUNWsmbsr:server', 'network/smb/server', 'create-default', '/lib/svc/method/svc-smbd', 'server.xml') },
    { path: 'network/ssh.xml', pkg: 'SUNWsshdr', body: smfManifest('SUNWsshdr:ssh', 'network/ssh', [{ name: 'default', enabled: true }], '/lib/svc/method/sshd', 'ssh.xml') },
    { path: 'system/sysevent.xml', pkg: 'SUNWcsr', body: smfManifest('SUNWcsr:sysevent', 'system/sysevent', [{ name: 'default', enabled: true }], '/lib/svc/method/svc-syseventd', 'sysevent.xml') },
    { path: 'system/filesystem/local-fs.xml', pkg: 'SUNWcsr', body: smfManifest('SUNWcsr:filesystem-local', 'system/filesystem/local', [{ name: 'default', enabled: true }], '/lib/svc/method/fs-local', 'local-fs.xml') },
    { path: 'system/pools.xml', pkg: 'SUNWpoolr', body: smfManifest('SUNWpoolr:pools', 'system/pools', 'create-default', '/lib/svc/method/svc-pools', 'pools.xml') },
    { path: 'system/poold.xml', pkg: 'SUNWpoolr', body: smfManifest('SUNWpoolr:poold', 'system/pools/dynamic', [{ name: 'default', enabled: false }], '/lib/svc/method/svc-poold', 'poold.xml') },
    { path: 'system/metainit.xml', pkg: 'SUNWmdr', body: smfManifest('SUNWmdr:metainit', 'system/metainit', [{ name: 'default', enabled: true }], '/lib/svc/method/svc-metainit', 'metainit.xml') },
    { path: 'system/mdmonitor.xml', pkg: 'SUNWmdr', body: smfManifest('SUNWmdr:mdmonitor', 'system/mdmonitor', [{ name: 'default', enabled: true }], '/lib/svc/method/svc-metainit', 'mdmonitor.xml') },
  ];
  tree.dir('var/svc', 0o755, UID.root, GID.sys);
  tree.dir('var/svc/manifest', 0o755, UID.root, GID.sys);
  for (const m of manifests) f(`var/svc/manifest/${m.path}`, m.body, { mode: 0o444, ...SYS, mtime: pkgT(), pkg: { type: 'f', cls: 'manifest', pkgs: [m.pkg] } });
  tree.dir('var/svc/profile', 0o755, UID.root, GID.sys);
  f('var/svc/profile/upgrade', `#!/sbin/sh\n#\n# Copyright 2009 Sun Microsystems, Inc.  All rights reserved.\n# Use is subject to license terms.\n#\n# This file is run by the manifest-import service on the next boot.\n\n/usr/sbin/svcadm disable svc:/network/telnet:default\n/usr/sbin/svcadm disable svc:/network/finger:default\n`, { mode: 0o644, ...SYS, mtime: cfgT() });
  f('var/svc/profile/generic_limited_net.xml', `<?xml version='1.0'?>\n<!DOCTYPE service_bundle SYSTEM '/usr/share/lib/xml/dtd/service_bundle.dtd.1'>\n<service_bundle type='profile' name='generic_limited_net'>\n  <service name='network/ssh' version='1' type='service'>\n    <instance name='default' enabled='true'/>\n  </service>\n  <service name='network/telnet' version='1' type='service'>\n    <instance name='default' enabled='false'/>\n  </service>\n</service_bundle>\n`, { mode: 0o444, ...SYS, mtime: pkgT(), pkg: pk('f', 'SUNWcsr') });
  tree.symlink('var/svc/profile/generic.xml', 'generic_limited_net.xml');
  f('var/svc/profile/platform_none.xml', `<?xml version='1.0'?>\n<!DOCTYPE service_bundle SYSTEM '/usr/share/lib/xml/dtd/service_bundle.dtd.1'>\n<service_bundle type='profile' name='platform_none'/>\n`, { mode: 0o444, ...SYS, mtime: pkgT(), pkg: pk('f', 'SUNWcsr') });
  tree.symlink('var/svc/profile/platform.xml', './platform_none.xml');

  // ---------------------------------------------------------- var: logs, run, spool, sadm
  tree.dir('var/adm', 0o775, UID.adm, GID.adm);
  f('var/adm/messages', txt('messages', 20000, `${solDate(T_SNAP - 3600)} ${hostname} genunix: [ID 540533 kern.notice] \rSunOS Release 5.10 Version Generic_${kernelPatch} 64-bit\n`), { mode: 0o644, ...SYS, mtime: snapT() });
  f('var/adm/utmpx', () => noise('utmpx').bytes(372 * 4), { mode: 0o644, uid: UID.root, gid: GID.bin, mtime: snapT(), pkg: pk('v', 'SUNWcsr') });
  f('var/adm/wtmpx', () => noise('wtmpx').bytes(372 * 20), { mode: 0o644, uid: UID.adm, gid: GID.adm, mtime: snapT(), pkg: pk('v', 'SUNWcsr') });
  tree.dir('var/spool/cron/crontabs', 0o755, UID.root, GID.sys);
  f('var/spool/cron/crontabs/root', '#ident\t"@(#)root\t1.21\t04/03/23 SMI"\n#\n10 3 * * * /usr/sbin/logadm\n15 3 * * 0 /usr/lib/fs/nfs/nfsfind\n30 3 * * * [ -x /usr/lib/gss/gsscred_clean ] && /usr/lib/gss/gsscred_clean\n', { mode: 0o600, ...SYS, mtime: cfgT() });
  f('var/run/syslog.pid', `${R('pid').int(100, 999)}\n`, { mode: 0o644, ...SYS, mtime: snapT() });
  f('var/run/sshd.pid', `${R('pid2').int(300, 900)}\n`, { mode: 0o644, ...SYS, mtime: snapT() });
  f('var/run/utmppipe.lock', '', { mode: 0o600, uid: UID.root, gid: GID.root, mtime: snapT() });
  tree.dir('var/run/zones', 0o700, UID.root, GID.root);
  f('var/run/zones/zone1.zoneadmd_door', '', { mode: 0o600, uid: UID.root, gid: GID.root, mtime: snapT() });
  f('var/tmp/patch-prep.log', txt('vartmp', 3000, 'patchadd log\n'), { mode: 0o644, ...SYS, mtime: snapT() });
  f('tmp/.sess_a8c3', 'session\n', { mode: 0o600, uid: UID.alice, gid: GID.staff, mtime: snapT() });
  f('tmp/build.out', txt('tmpfile', 9000, 'make: Entering directory\n'), { mode: 0o644, uid: UID.bob, gid: GID.staff, mtime: snapT() });
  tree.dir('tmp/.X11-unix', 0o1777, UID.root, GID.root, snapT());
  tree.dir('var/sadm/system/admin', 0o755, UID.root, GID.sys);
  f('var/sadm/system/admin/INST_RELEASE', 'OS=Solaris\nVERSION=10\nREV=0\n', { mode: 0o644, ...SYS, mtime: T_INSTALL + 60.5 });
  f('var/sadm/system/admin/CLUSTER', 'CLUSTER=SUNWCXall\n', { mode: 0o644, ...SYS, mtime: T_INSTALL + 60.5 });
  tree.dir('var/sadm/system/logs', 0o755, UID.root, GID.sys);
  f('var/sadm/system/logs/install_log', txt('install_log', 6000, `Installation of <SUNWcsr> was successful.\n`), { mode: 0o644, ...SYS, mtime: T_INSTALL + 3000.5 });

  // Packages.
  const packages = pkgDefs(arch, kernelPatch);
  const pkgFor = new Map(packages.map((p) => [p.name, p]));
  tree.dir('var/sadm/pkg', 0o555, UID.root, GID.sys);
  tree.dir('var/sadm/install', 0o555, UID.root, GID.bin);
  tree.dir('var/sadm/patch', 0o755, UID.root, GID.sys);
  const patchT = R('patchtimes');
  const patchDates = new Map<string, number>();
  // Later patches (higher numbers) were applied later.
  const ids = [...new Set(packages.flatMap((p) => p.patches))].sort();
  let pt = T_INSTALL + 86400 * 2;
  for (const id of ids) patchDates.set(id, (pt = jit(patchT, pt, 86400 * 40)));
  for (const id of [...patchDates.keys()].sort()) {
    tree.dir(`var/sadm/patch/${id}`, 0o755, UID.root, GID.sys, patchDates.get(id)!);
    f(`var/sadm/patch/${id}/log`, `\nThis appears to be an attempt to install the same architecture and\nversion of a package which is already installed.  This installation\nwill attempt to overwrite this package.\n\nInstallation of <${id}> was successful.\n`, { mode: 0o644, ...SYS, mtime: patchDates.get(id)! });
  }
  for (const p of packages) {
    const dirT = jit(tPkg, T_INSTALL, 3600);
    const base = `var/sadm/pkg/${p.name}`;
    tree.dir(base, 0o755, UID.root, GID.sys, dirT);
    f(`${base}/pkginfo`, pkginfo(p, pkgArch, T_INSTALL, patchDates), { mode: 0o644, uid: UID.root, gid: GID.root, mtime: dirT });
    if (p.depends.length) {
      tree.dir(`${base}/install`, 0o755, UID.root, GID.sys, dirT);
      f(`${base}/install/depend`, `#\n# Copyright 2005 Sun Microsystems, Inc.  All rights reserved.\n#\n# This package information file defines software dependencies associated\n# with the pkg.\n#\n${p.depends.map((d) => `P ${d}\t${pkgFor.get(d)?.desc ?? d}`).join('\n')}\n`, { mode: 0o644, uid: UID.root, gid: GID.root, mtime: dirT });
      f(`${base}/install/copyright`, 'Copyright 2005 Sun Microsystems, Inc.  All rights reserved.\nUse is subject to license terms.\n', { mode: 0o644, uid: UID.root, gid: GID.root, mtime: dirT });
    }
    if (p.pspool) {
      const sp = `${base}/save/pspool/${p.name}`;
      tree.dir(`${base}/save`, 0o755, UID.root, GID.sys, dirT);
      tree.dir(`${base}/save/pspool`, 0o755, UID.root, GID.sys, dirT);
      tree.dir(sp, 0o755, UID.root, GID.sys, dirT);
      f(`${sp}/pkginfo`, pkginfo(p, pkgArch, T_INSTALL, patchDates, true), { mode: 0o644, uid: UID.root, gid: GID.root, mtime: dirT });
      tree.add({ path: `${sp}/pkgmap`, kind: 'file', mode: 0o644, uid: UID.root, gid: GID.root, mtime: dirT, late: true, data: () => pkgmap(p.name, tree, written) });
    }
  }

  // ---------------------------------------------------------- homes, opt/app, dev, devices
  for (const [u, uid] of [['alice', UID.alice], ['bob', UID.bob]] as const) {
    tree.dir(`export/home/${u}`, 0o755, uid, GID.staff);
    f(`export/home/${u}/.profile`, `# ${u}'s profile\nPATH=/usr/bin:/usr/sbin:/usr/sfw/bin:/opt/app/current/bin\nexport PATH\nEDITOR=vi\n`, { mode: 0o644, uid, gid: GID.staff, mtime: cfgT() });
    f(`export/home/${u}/notes.txt`, txt(`notes${u}`, 5000, `notes for ${u}\n`), { mode: 0o600, uid, gid: GID.staff, mtime: snapT() });
  }
  const nonUtf8 = 'export/home/alice/r\xe9sum\xe9.txt';
  f(nonUtf8, 'latin1 name, ISO-8859-1 bytes\n', { mode: 0o644, uid: UID.alice, gid: GID.staff, mtime: cfgT() });
  tree.dir('export/install', 0o755, UID.root, GID.root);
  f('export/install/README', 'install images live here\n', { mode: 0o644, uid: UID.root, gid: GID.root, mtime: cfgT() });
  tree.dir('opt/app', 0o755, UID.root, GID.bin, cfgT());
  tree.dir('opt/app/releases/1.2/bin', 0o755, UID.root, GID.bin);
  tree.symlink('opt/app/current', '/opt/app/releases/1.2');
  f('opt/app/releases/1.2/bin/appd', elf('appd', 120000), { mode: 0o755, uid: UID.root, gid: GID.bin, mtime: cfgT() });

  const dev = (p: string, kind: 'char' | 'block', maj: number, min: number, mode = 0o640) => tree.node(p, kind, mode, UID.root, GID.sys, maj, min, T_INSTALL + 1800.5);
  const devicePaths: string[] = [];
  const dn = (p: string, kind: 'char' | 'block', maj: number, min: number, mode = 0o640) => {
    dev(p, kind, maj, min, mode);
    devicePaths.push(p);
  };
  tree.dir('devices/pseudo', 0o755, UID.root, GID.sys);
  dn('devices/pseudo/mm@0:null', 'char', 13, 2, 0o666);
  dn('devices/pseudo/mm@0:zero', 'char', 13, 12, 0o666);
  dn('devices/pseudo/mm@0:kmem', 'char', 13, 1, 0o640);
  dn('devices/pseudo/md@0:0,10,blk', 'block', 85, 10);
  dn('devices/pseudo/md@0:0,10,raw', 'char', 85, 10);
  const sdDir = arch === 'sparc' ? 'devices/pci@1f,0/pci@1/scsi@8' : 'devices/pci@0,0/pci1000,30@10';
  tree.dir(sdDir, 0o755, UID.root, GID.sys);
  for (const [s, m] of [['a', 0], ['b', 1], ['h', 7]] as const) {
    dn(`${sdDir}/sd@0,0:${s}`, 'block', 32, m);
    dn(`${sdDir}/sd@0,0:${s},raw`, 'char', 32, m);
  }
  dn('dev/msglog', 'char', 97, 1, 0o600);
  tree.symlink('dev/null', '../devices/pseudo/mm@0:null');
  tree.symlink('dev/zero', '../devices/pseudo/mm@0:zero');
  tree.symlink('dev/kmem', '../devices/pseudo/mm@0:kmem');
  for (const [i, s] of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].entries()) {
    tree.symlink(`dev/dsk/c0t0d0s${i}`, `../../${sdDir}/sd@0,0:${s}`);
    tree.symlink(`dev/rdsk/c0t0d0s${i}`, `../../${sdDir}/sd@0,0:${s},raw`);
  }
  tree.symlink('dev/md/dsk/d10', '../../../devices/pseudo/md@0:0,10,blk');
  tree.symlink('dev/md/rdsk/d10', '../../../devices/pseudo/md@0:0,10,raw');
  tree.dir('dev/fd', 0o555, UID.root, GID.root);
  tree.dir('dev/pts', 0o755, UID.root, GID.sys);

  // ---------------------------------------------------------- nested zones
  if (nested) {
    tree.dir('zones', 0o755, UID.root, GID.root, cfgT());
    for (const z of zones) {
      const zp = z.zonepath.slice(1);
      tree.dir(zp, 0o700, UID.root, GID.root, cfgT());
      if (z.state === 'installed') {
        tree.dir(`${zp}/root`, 0o755, UID.root, GID.root);
        tree.dir(`${zp}/dev`, 0o755, UID.root, GID.sys);
        dn(`${zp}/dev/null`, 'char', 13, 2, 0o666);
        tree.dir(`${zp}/root/tmp`, 0o1777, UID.root, GID.sys);
        tree.dir(`${zp}/root/dev`, 0o755, UID.root, GID.sys);
        tree.dir(`${zp}/root/proc`, 0o555, UID.root, GID.root);
      }
      const zroot = `${zp}/root`;
      f(`${zroot}/etc/nodename`, `${z.name}\n`, { ...SYS, mtime: cfgT() });
      f(`${zroot}/etc/vfstab`, `#device\t\tdevice\t\tmount\t\tFS\tfsck\tmount\tmount\n#to mount\tto fsck\t\tpoint\t\ttype\tpass\tat boot\toptions\n#\n/proc\t-\t/proc\tproc\t-\tno\t-\nctfs\t-\t/system/contract\tctfs\t-\tno\t-\nobjfs\t-\t/system/object\tobjfs\t-\tno\t-\nswap\t-\t/tmp\ttmpfs\t-\tyes\t-\n`, { ...SYS, mtime: cfgT() });
      f(`${zroot}/etc/inet/hosts`, `::1\tlocalhost\n127.0.0.1\tlocalhost\n${subnet}.${z.name === 'zone1' ? 51 : 52}\t${z.name}\tloghost\n`, { mode: 0o444, ...SYS, mtime: cfgT() });
      tree.symlink(`${zroot}/etc/hosts`, './inet/hosts');
      f(`${zroot}/etc/passwd`, 'root:x:0:0:Super-User:/:/sbin/sh\ndaemon:x:1:1::/:\nbin:x:2:2::/usr/bin:\nsys:x:3:3::/:\n', { ...SYS, mtime: cfgT() });
      f(`${zroot}/etc/release`, `${center(release, 62)}\n`, { mode: 0o444, ...SYS, mtime: T_INSTALL + 0.5 });
      f(`${zroot}/var/sadm/system/admin/INST_RELEASE`, 'OS=Solaris\nVERSION=10\nREV=0\n', { ...SYS, mtime: T_INSTALL + 60.5 });
      f(`${zroot}/var/sadm/pkg/SUNWcsr/pkginfo`, pkginfo(packages[0]!, pkgArch, T_INSTALL, patchDates), { uid: UID.root, gid: GID.root, mtime: T_INSTALL + 3600.5 });
      tree.symlink(`${zroot}/bin`, './usr/bin');
      for (const c of ['ls', 'cat', 'chmod']) f(`${zroot}/usr/bin/${c}`, elf(`${zroot}/usr/bin/${c}`, 9000 + c.length * 1000), { mode: 0o555, ...BIN, mtime: pkgT() });
      f(`${zroot}/export/home/zuser/data.txt`, txt(`zdata${z.name}`, 7000, `${z.name} data\n`), { mode: 0o644, uid: UID.alice, gid: GID.staff, mtime: snapT() });
    }
  }

  // ---------------------------------------------------------- bulk: usr filler and opt/app
  const fixedFiles = [...tree.specs.values()].filter((s) => s.kind === 'file' || s.kind === 'hardlink').length + 1; // + contents
  const filler = Math.max(0, nFiles - fixedFiles);
  const fr = R('filler');
  const smallBudget = nBytes * 0.2;
  const avg = Math.min(64 * 1024, Math.max(300, filler ? smallBudget / filler : 0));
  const manSecs = ['man1', 'man1m', 'man3c', 'man4', 'man5'];
  const used = new Set<string>();
  const uniq = (base: string, suffix = '') => {
    let n = base;
    for (let i = 2; used.has(n + suffix) || tree.specs.has(n + suffix); i++) n = `${base}${i}`;
    used.add(n + suffix);
    return n + suffix;
  };
  const sizeOf = () => Math.max(64, Math.floor(avg * (0.15 + 1.7 * fr.float() * fr.float() * 1.7)));
  for (let i = 0; i < filler; i++) {
    const r = fr.float();
    const w = `${fr.pick(WORDS)}${fr.pick(WORDS)}`.replace(/[^A-Za-z0-9]/g, '').toLowerCase().slice(0, 14);
    const size = sizeOf();
    if (r < 0.35) {
      const p = uniq(`usr/bin/${w}`);
      f(p, elfRaw(p, size), { mode: 0o555, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWcsu') });
    } else if (r < 0.45) {
      const p = uniq(`usr/sbin/${w}`);
      f(p, elfRaw(p, size), { mode: 0o555, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWcsu') });
    } else if (r < 0.6) {
      const q = uniq(`usr/lib/lib${w}`, '.so.1');
      f(q, elfRaw(q, size, true), { mode: 0o755, ...BIN, mtime: pkgT(), pkg: pk('f', 'SUNWcsl') });
      if (fr.chance(0.3)) tree.symlink(uniq(q.slice(0, -2)), `./${path.posix.basename(q)}`, { pkg: pk('s', 'SUNWcsl') });
    } else if (r < 0.9) {
      const sec = fr.pick(manSecs);
      const q = uniq(`usr/share/man/${sec}/${w}`, `.${sec.slice(3)}`);
      f(q, txt(`man:${q}`, size, `'\\" te\n.\\" Copyright (c) 2005, Sun Microsystems, Inc.  All Rights Reserved\n.TH ${w} ${sec.slice(3)} "21 Jan 2005" "SunOS 5.10" "User Commands"\n.SH NAME\n${w} \\- ${fr.pick(WORDS)} ${fr.pick(WORDS)}\n`), { mode: 0o444, uid: UID.root, gid: GID.bin, mtime: pkgT(), pkg: pk('f', 'SUNWman') });
    } else {
      const q = uniq(`usr/include/sys/${w}`, '.h');
      f(q, txt(`hdr:${q}`, size, `/*\n * Copyright 2005 Sun Microsystems, Inc.  All rights reserved.\n * Use is subject to license terms.\n */\n\n#ifndef _SYS_${w.toUpperCase()}_H\n#define\t_SYS_${w.toUpperCase()}_H\n\n#pragma ident\t"@(#)${w}.h\t1.${fr.int(1, 40)}\t05/01/21 SMI"\n\n`), { mode: 0o644, uid: UID.root, gid: GID.bin, mtime: pkgT(), pkg: pk('f', 'SUNWhea') });
    }
  }
  for (const d of ['usr/share/man', 'usr/include', 'usr/include/sys', ...manSecs.map((s) => `usr/share/man/${s}`)]) if (tree.specs.has(d)) tree.dir(d, 0o755, UID.root, GID.bin);

  // opt/app: three big files taking what is left of the byte budget.
  let planned = 0;
  for (const s of tree.specs.values()) if (s.kind === 'file') planned += estimateSize(s);
  const rest = Math.max(3 * 65536, nBytes - planned);
  const bigFiles = ['opt/app/releases/1.2/lib/libapp.so.1', 'opt/app/data/catalog.db', 'opt/app/releases/1.2/share/app-1.2-docs.tar'];
  const shares = [0.5, 0.3, 0.2];
  bigFiles.forEach((p, i) => {
    const size = Math.floor(rest * shares[i]!) + R(`bigsize${i}`).int(0, 4095);
    tree.add({ path: p, kind: 'file', mode: i === 0 ? 0o755 : 0o644, uid: UID.root, gid: GID.bin, mtime: cfgT(), big: { size, key: p } });
  });

  // The package contents database (written last: it lists sizes and sums).
  tree.add({ path: 'var/sadm/install/contents', kind: 'file', mode: 0o644, uid: UID.root, gid: GID.root, mtime: T_SNAP - 86400 * 30 + 0.5, late: true, data: () => contents(tree, written) });

  // The root directory.
  const rootTime = T_SNAP + 0.25;

  // ---------------------------------------------------------- write it
  const written = new Map<string, Written>();
  const specs = [...tree.specs.values()];
  // A directory's mtime is when its last entry was made.
  for (const s of specs) {
    const d = tree.specs.get(path.posix.dirname(s.path));
    if (d && d.mtime < s.mtime) d.mtime = s.mtime;
  }
  specs.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const abs = (p: string) => Buffer.concat([Buffer.from(root + '/'), Buffer.from(p, 'latin1')]);
  for (const s of specs) if (s.kind === 'dir') fs.mkdirSync(abs(s.path), { recursive: true });
  const writeFile = (s: Spec) => {
    const fd = fs.openSync(abs(s.path), 'wx', 0o600);
    try {
      if (s.big) {
        const w = bigWriter(fd, s.big.size, s.big.key, seed, text);
        written.set(s.path, w);
      } else {
        const buf = s.data ? s.data() : Buffer.alloc(0);
        fs.writeSync(fd, buf);
        written.set(s.path, { size: buf.length, sum: foldSum(pkgSum(buf)) });
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  for (const s of specs) if (s.kind === 'file' && !s.late) writeFile(s);
  for (const s of specs) if (s.kind === 'file' && s.late) writeFile(s);
  for (const s of specs) {
    if (s.kind === 'hardlink') fs.linkSync(abs(s.target!), abs(s.path));
    else if (s.kind === 'symlink') fs.symlinkSync(Buffer.from(s.target!, 'latin1'), abs(s.path));
  }
  const nodes = specs.filter((s) => s.kind === 'fifo' || ((s.kind === 'char' || s.kind === 'block') && privileged));
  if (nodes.length) {
    const q = (p: string) => `'${p.replace(/'/g, `'\\''`)}'`;
    const script = nodes.map((s) => (s.kind === 'fifo' ? `mkfifo -m 600 ${q(s.path)}` : `mknod ${q(s.path)} ${s.kind === 'char' ? 'c' : 'b'} ${s.major} ${s.minor}`)).join(' && ');
    const r = spawnSync('sh', ['-c', script], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`makeImage: creating device nodes failed: ${r.stderr || r.error?.message}`);
  }
  const present = specs.filter((s) => !((s.kind === 'char' || s.kind === 'block') && !privileged));
  // Owners first (chown clears set-id bits), then modes, then times (directories last).
  for (const s of present) {
    const p = abs(s.path);
    if (s.kind === 'hardlink') continue;
    if (s.kind === 'symlink') {
      if (privileged) fs.lchownSync(p, s.uid, s.gid);
      fs.lutimesSync(p, s.mtime, s.mtime);
      continue;
    }
    if (privileged) fs.chownSync(p, s.uid, s.gid);
    fs.chmodSync(p, s.mode);
    if (s.kind !== 'dir') fs.utimesSync(p, s.mtime, s.mtime);
  }
  for (const s of present) if (s.kind === 'dir') fs.utimesSync(abs(s.path), s.mtime, s.mtime);
  if (privileged) fs.chownSync(root, UID.root, GID.root);
  fs.chmodSync(root, 0o755);
  fs.utimesSync(root, rootTime, rootTime);

  // ---------------------------------------------------------- manifest
  const counts = { entries: 0, files: 0, dirs: 0, symlinks: 0, hardlinks: 0, fifos: 0, charDevices: 0, blockDevices: 0 };
  let totalBytes = 0;
  for (const s of present) {
    counts.entries++;
    if (s.kind === 'file') {
      counts.files++;
      totalBytes += written.get(s.path)!.size;
    } else if (s.kind === 'hardlink') {
      counts.files++;
      counts.hardlinks++;
    } else if (s.kind === 'dir') counts.dirs++;
    else if (s.kind === 'symlink') counts.symlinks++;
    else if (s.kind === 'fifo') counts.fifos++;
    else if (s.kind === 'char') counts.charDevices++;
    else counts.blockDevices++;
  }
  const hollow = new Set(packages.filter((p) => p.hollow).map((p) => p.name));
  return {
    root,
    seed,
    hostname,
    release,
    arch,
    kernelPatch,
    counts,
    totalBytes,
    privileged,
    nestedZones: zones,
    packages: packages.map((p) => ({ name: p.name, version: p.version, hollow: p.hollow, allZones: p.allZones, patches: p.patches })),
    paths: {
      vfstab: 'etc/vfstab',
      dfstab: 'etc/dfs/dfstab',
      zonesIndex: 'etc/zones/index',
      zoneXml: zones.map((z) => `etc/zones/${z.name}.xml`),
      hostnameFiles: ['etc/hostname.e1000g0', 'etc/hostname6.e1000g0'],
      release: 'etc/release',
      instRelease: 'var/sadm/system/admin/INST_RELEASE',
      contents: 'var/sadm/install/contents',
      smfManifests: manifests.map((m) => `var/svc/manifest/${m.path}`),
      hollowManifests: manifests.filter((m) => hollow.has(m.pkg)).map((m) => `var/svc/manifest/${m.path}`),
      smfUpgradeProfile: 'var/svc/profile/upgrade',
      liveUpgrade: ['etc/lutab', 'etc/lu/.BE_CONFIG', 'etc/lu/.CURR_VARS', 'etc/lu/ICF.1', 'etc/lu/vtoc.1'],
      setuid: specs.filter((s) => s.kind === 'file' && s.mode & 0o6000).map((s) => s.path),
      fifos: specs.filter((s) => s.kind === 'fifo').map((s) => s.path),
      devices: privileged ? devicePaths : [],
      hardlinkGroups: hl,
      bigFiles,
      nonUtf8,
      longPath,
    },
  };
}

/** Planned size of a spec, without generating its body. */
function estimateSize(s: Spec): number {
  if (s.big) return s.big.size;
  if (s.late) return 0;
  return s.hint ?? 4096;
}

/** Stream a large pseudo-random file: a mix of noise, text and table-like chunks. */
function bigWriter(fd: number, size: number, key: string, seed: number, text: Buffer): Written {
  const r = new Rng(`big:${seed}:${key}`);
  const n = new Noise(`${seed}:big:${key}`);
  let left = size;
  let sum = 0;
  const chunk = Buffer.alloc(65536);
  while (left > 0) {
    const len = Math.min(65536, left);
    const kind = r.float();
    let buf: Buffer;
    if (kind < 0.45) buf = n.bytes(len);
    else if (kind < 0.85) {
      let o = 0;
      while (o < len) {
        const off = r.int(0, text.length - 1);
        o += text.copy(chunk, o, off, Math.min(text.length, off + (len - o)));
      }
      buf = chunk.subarray(0, len);
    } else {
      // Records: a counter, a small noise field and padding (compresses well, not trivially).
      const noiseField = n.bytes(Math.ceil(len / 32) * 4);
      for (let o = 0, i = 0; o < len; o += 32, i++) {
        const rec = Buffer.alloc(32);
        rec.writeUInt32BE((size - left + o) >>> 5, 0);
        noiseField.copy(rec, 4, i * 4, i * 4 + 4);
        rec.write('ENTRY', 8, 'latin1');
        rec.copy(chunk, o, 0, Math.min(32, len - o));
      }
      buf = chunk.subarray(0, len);
    }
    fs.writeSync(fd, buf);
    sum = pkgSum(buf, sum);
    left -= len;
  }
  return { size, sum: foldSum(sum) };
}

// ---------------------------------------------------------------- file templates

function vfstab(subnet: string, nfsHost: string): string {
  return [
    '#device\t\tdevice\t\tmount\t\tFS\tfsck\tmount\tmount',
    '#to mount\tto fsck\t\tpoint\t\ttype\tpass\tat boot\toptions',
    '#',
    'fd\t-\t/dev/fd\tfd\t-\tno\t-',
    '/proc\t-\t/proc\tproc\t-\tno\t-',
    '/dev/dsk/c0t0d0s1\t-\t-\tswap\t-\tno\t-',
    '/dev/dsk/c0t0d0s0\t/dev/rdsk/c0t0d0s0\t/\tufs\t1\tno\t-',
    '/dev/dsk/c0t0d0s7\t/dev/rdsk/c0t0d0s7\t/export/home\tufs\t2\tyes\t-',
    '/dev/md/dsk/d10\t/dev/md/rdsk/d10\t/zones\tufs\t2\tyes\tlogging',
    '/devices\t-\t/devices\tdevfs\t-\tno\t-',
    'sharefs\t-\t/etc/dfs/sharetab\tsharefs\t-\tno\t-',
    'ctfs\t-\t/system/contract\tctfs\t-\tno\t-',
    'objfs\t-\t/system/object\tobjfs\t-\tno\t-',
    'swap\t-\t/tmp\ttmpfs\t-\tyes\t-',
    '',
    `${nfsHost}:/export/tools\t-\t/tools\tnfs\t-\tyes\tro,bg,soft`,
    `${subnet}.5:/export/archive\t-\t/archive\tnfs\t-\tyes\trw,bg,hard,intr`,
    '/export/install\t-\t/install\tlofs\t-\tyes\tro',
    '',
  ].join('\n');
}

function dfstab(): string {
  return [
    '',
    '#       Place share(1M) commands here for automatic execution',
    '#       on entering init state 3.',
    '#',
    "#       Issue the command 'svcadm enable network/nfs/server' to",
    '#       run the NFS daemon processes and the share commands, after adding',
    '#       the very first entry to this file.',
    '#',
    '#       share [-F fstype] [ -o options] [-d "<text>"] <pathname> [resource]',
    '#       .e.g,',
    '#       share  -F nfs  -o rw=engineering  -d "home dirs"  /export/home2',
    'share -F nfs -o rw /export/home',
    'share  -F nfs  -o ro,anon=0  -d "install images"  /export/install',
    '',
  ].join('\n');
}

function etcSystem(): string {
  return [
    '*ident\t"@(#)system\t1.18\t05/06/27 SMI" /* SVR4 1.5 */',
    '*',
    '* SYSTEM SPECIFICATION FILE',
    '*',
    '',
    '* moddir:',
    '*',
    '*\tSet the search path for modules.  This has a format similar to the',
    '*\tcsh path variable. If the module isn\'t found in the first directory',
    '*\tit tries the second and so on. The default is /kernel /usr/kernel',
    '*',
    '*\tExample:',
    '*\t\tmoddir: /kernel /usr/kernel /other/modules',
    '',
    '* set:',
    '*',
    '*\tSet an integer variable in the kernel or a module to a new value.',
    '*\tThis facility should be used with caution.  See system(4).',
    '*',
    'set shmsys:shminfo_shmmax=4294967295',
    'set semsys:seminfo_semmni=100',
    'set semsys:seminfo_semmsl=256',
    'set rlim_fd_max=65536',
    'set rlim_fd_cur=4096',
    'set noexec_user_stack=1',
    '* Begin MDD root info (do not edit)',
    'rootdev:/pseudo/md@0:0,0,blk',
    '* End MDD root info (do not edit)',
    'forceload: drv/md',
    '',
  ].join('\n');
}

function inittab(): string {
  return [
    '#',
    '# Copyright 2004 Sun Microsystems, Inc.  All rights reserved.',
    '# Use is subject to license terms.',
    '#',
    '# The /etc/inittab file controls the configuration of init(1M); for more',
    '# information refer to init(1M) and inittab(4).  It is no longer',
    '# necessary to edit inittab(4) directly; administrators should use the',
    '# Solaris Service Management Facility (SMF) to define services instead.',
    '# Refer to smf(5) and the System Administration Guide for more',
    '# information on SMF.',
    '#',
    '# For modifying parameters passed to ttymon, use svccfg(1m) to modify',
    '# the SMF repository. For example:',
    '#',
    '#\t# svccfg',
    '#\tsvc:> select system/console-login',
    '#\tsvc:/system/console-login> setprop ttymon/terminal_type = "xterm"',
    '#\tsvc:/system/console-login> exit',
    '#',
    '#ident\t"@(#)inittab\t1.41\t04/12/14 SMI"',
    'ap::sysinit:/sbin/autopush -f /etc/iu.ap',
    'sp::sysinit:/sbin/soconfig -f /etc/sock2path',
    'smf::sysinit:/lib/svc/bin/svc.startd\t>/dev/msglog 2<>/dev/msglog </dev/console',
    'p3:s1234:powerfail:/usr/sbin/shutdown -y -i5 -g0 >/dev/msglog 2<>/dev/msglog',
    '',
  ].join('\n');
}

function zonesIndex(zones: NestedZone[]): string {
  return [
    '# Copyright 2004 Sun Microsystems, Inc.  All rights reserved.',
    '# Use is subject to license terms.',
    '#',
    '# ident\t"@(#)zones-index\t1.2\t04/04/01 SMI"',
    '#',
    '# DO NOT EDIT: this file is automatically generated by zoneadm(1M)',
    '# and zonecfg(1M).  Any manual changes will be lost.',
    '#',
    'global:installed:/',
    ...zones.map((z) => `${z.name}:${z.state}:${z.zonepath}:${z.uuid}`),
    '',
  ].join('\n');
}

function zoneXml(z: NestedZone, subnet: string, isDefault = false): string {
  const head = `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE zone PUBLIC "-//Sun Microsystems Inc//DTD Zones//EN" "file:///usr/share/lib/xml/dtd/zonecfg.dtd.1">\n<!--\n    Copyright 2006 Sun Microsystems, Inc.  All rights reserved.\n    Use is subject to license terms.\n\n    ident\t"@(#)SUNWdefault.xml\t1.2\t06/03/24 SMI"\n\n    DO NOT EDIT THIS FILE.  Use zonecfg(1M) instead.\n-->\n`;
  if (isDefault) {
    return `${head}<zone name="default" zonepath="" autoboot="false">\n  <inherited-pkg-dir directory="/lib"/>\n  <inherited-pkg-dir directory="/platform"/>\n  <inherited-pkg-dir directory="/sbin"/>\n  <inherited-pkg-dir directory="/usr"/>\n</zone>\n`;
  }
  const ipd = z.name === 'zone2' ? '  <inherited-pkg-dir directory="/lib"/>\n  <inherited-pkg-dir directory="/platform"/>\n  <inherited-pkg-dir directory="/sbin"/>\n  <inherited-pkg-dir directory="/usr"/>\n' : '';
  const last = z.name === 'zone1' ? 51 : 52;
  return `${head}<zone name="${z.name}" zonepath="${z.zonepath}" autoboot="${z.state === 'installed'}">\n${ipd}  <filesystem special="/export/${z.name}-data" directory="/data" type="lofs"/>\n  <network address="${subnet}.${last}/24" physical="e1000g0"/>\n  <rctl name="zone.max-lwps">\n    <rctl-value priv="privileged" limit="2000" action="deny"/>\n  </rctl>\n</zone>\n`;
}

/** A valid, empty SQLite 3 database (one empty page), standing in for the SMF repository. */
function emptySqlite(): Buffer {
  const b = Buffer.alloc(4096);
  b.write('SQLite format 3\0', 0, 'latin1');
  b.writeUInt16BE(4096, 16);
  b[18] = 1;
  b[19] = 1;
  b[20] = 0;
  b[21] = 64;
  b[22] = 32;
  b[23] = 32;
  b.writeUInt32BE(1, 24); // change counter
  b.writeUInt32BE(1, 28); // pages
  b.writeUInt32BE(0, 40); // schema cookie
  b.writeUInt32BE(4, 44); // schema format
  b.writeUInt32BE(1, 56); // UTF-8
  b.writeUInt32BE(1, 92); // version-valid-for
  b.writeUInt32BE(3006017, 96);
  b[100] = 0x0d; // leaf table b-tree page, no cells
  b.writeUInt16BE(4096, 105);
  return b;
}

const USR_BIN = [
  'ls', 'cat', 'cp', 'mv', 'rm', 'mkdir', 'rmdir', 'chmod', 'chown', 'chgrp', 'ln', 'pwd', 'echo', 'date', 'df', 'du', 'find', 'grep', 'egrep', 'fgrep',
  'sed', 'awk', 'nawk', 'csh', 'tar', 'cpio', 'pax', 'compress', 'uncompress', 'zcat', 'gzip', 'bzip2', 'vi', 'ed', 'head', 'tail', 'sort', 'uniq',
  'wc', 'tr', 'cut', 'paste', 'diff', 'cmp', 'od', 'strings', 'file', 'which', 'id', 'groups', 'login', 'ps', 'kill', 'sleep', 'touch', 'expr',
  'basename', 'dirname', 'tee', 'xargs', 'uname', 'hostname', 'pkginfo', 'pkgparam', 'svcs', 'zonename', 'mailx', 'more', 'pg', 'tail', 'crontab',
  'ssh', 'scp', 'sftp', 'telnet', 'ftp', 'rsh', 'rcp', 'netstat', 'ping', 'truss', 'pfiles', 'pstack', 'pargs', 'prstat', 'mpstat', 'vmstat', 'iostat',
].filter((v, i, a) => a.indexOf(v) === i);

function pkgDefs(arch: 'sparc' | 'i386', kernelPatch: string): PkgDef[] {
  const rev = arch === 'sparc' ? 'REV=2005.01.21.15.53' : 'REV=2005.01.21.16.34';
  const v = `11.10.0,${rev}`;
  const ku = arch === 'sparc' ? ['118833-36', '120011-14', '127127-11', '137137-09', '139555-08', kernelPatch] : ['118855-36', '120012-14', '127128-11', '137138-09', '139556-08', kernelPatch];
  const P = (name: string, desc: string, long: string, o: Partial<PkgDef>): PkgDef => ({ name, desc, long, allZones: false, hollow: false, version: v, type: 'root', patches: [], depends: [], ...o });
  return [
    P('SUNWcsr', 'Core Solaris, (Root)', 'core software for a specific instruction-set architecture', { allZones: true, patches: [ku[1]!, '119313-35', kernelPatch], pspool: true, classes: 'none preserve initd renamenew svmpreserve manifest' }),
    P('SUNWcsu', 'Core Solaris, (Usr)', 'core software for a specific instruction-set architecture', { allZones: true, type: 'usr', patches: [ku[1]!, kernelPatch], depends: ['SUNWcsr', 'SUNWcsl'] }),
    P('SUNWcsl', 'Core Solaris, (Shared Libs)', 'core shared libraries for a specific instruction-set architecture', { allZones: true, type: 'usr', patches: [ku[0]!, kernelPatch] }),
    P('SUNWckr', 'Core Solaris Kernel (Root)', 'core kernel software for a specific instruction-set architecture', { allZones: true, hollow: true, patches: ku, pspool: true, depends: ['SUNWcsr'] }),
    P('SUNWcakr', `Core Solaris Kernel Architecture (Root), (${arch === 'sparc' ? 'sun4u' : 'i86pc'})`, 'core kernel software for a specific hardware platform group', { allZones: true, hollow: true, arch: arch === 'sparc' ? 'sparc.sun4u' : 'i386.i86pc', patches: ku, pspool: true, depends: ['SUNWckr'] }),
    P('SUNWzoner', 'Solaris Zones (Root)', 'Solaris Zones Configuration and Administration', { allZones: true, patches: ['140944-03'] }),
    P('SUNWzoneu', 'Solaris Zones (Usr)', 'Solaris Zones Configuration and Administration', { allZones: true, type: 'usr', patches: ['140944-03', kernelPatch], depends: ['SUNWzoner'] }),
    P('SUNWnfssr', 'Network File System (NFS) server support (Root)', 'Network File System (NFS) server support (Root)', { depends: ['SUNWcsr'], patches: ['139470-01'] }),
    P('SUNWnfssu', 'Network File System (NFS) server support (Usr)', 'Network File System (NFS) server support (Usr)', { type: 'usr', depends: ['SUNWnfssr'] }),
    P('SUNWroute', 'Network Routing daemons/commands', 'Network Routing daemons/commands', { type: 'usr' }),
    P('SUNWsmbsr', 'SMB Server (Root)', 'SMB Server (Root)', { version: `11.10.0,REV=2006.11.14.06.09` }),
    P('SUNWsshdr', 'SSH Server, (Root)', 'Secure Shell protocol Server, (Root)', {}),
    P('SUNWpoolr', 'Solaris Resource Pools (Root)', 'Resource Pools configuration and administration', { allZones: true, hollow: true, pspool: true }),
    P('SUNWmdr', 'Solaris Volume Manager, (Root)', 'Solaris Volume Manager commands', { allZones: true, hollow: true, pspool: true, patches: ['139967-02'] }),
    P('SUNWmdu', 'Solaris Volume Manager, (Usr)', 'Solaris Volume Manager commands', { type: 'usr', depends: ['SUNWmdr'] }),
    P('SUNWsndmu', 'Sendmail (/usr)', 'sendmail mailer (/usr)', { type: 'usr' }),
    P('SUNWsolnm', 'Solaris Naming Enabler', 'Solaris Naming Enabler', { allZones: true, version: '11.10.0,REV=2009.09.16.05.05' }),
    P('SUNWluu', 'Live Upgrade (usr)', 'Live Upgrade Software', { type: 'usr', version: '11.10,REV=2007.03.09.13.23', patches: ['121430-42'] }),
    P('SUNWman', 'On-Line Manual Pages', 'System Reference Manual Pages', { type: 'usr', version: '43.0,REV=75.0' }),
    P('SUNWhea', 'SunOS Header Files', 'SunOS C/C++ header files for general development', { type: 'usr' }),
    P('VRTSvxvm', 'Binaries for VERITAS Volume Manager by Symantec', 'Virtual Disk Subsystem', { version: '5.0,REV=05.11.2006.17.55', vendor: 'Symantec Corporation', arch: arch === 'sparc' ? 'sparc' : 'i386' }),
  ];
}

function pkginfo(p: PkgDef, pkgArch: string, tInst: number, patchDates: Map<string, number>, spool = false): string {
  const lines = [
    `PKG=${p.name}`,
    `NAME=${p.desc}`,
    `ARCH=${p.arch ?? pkgArch}`,
    `VERSION=${p.version}`,
    'SUNW_PRODNAME=SunOS',
    'SUNW_PRODVERS=5.10/Generic',
    `SUNW_PKGTYPE=${p.type}`,
    'MAXINST=1000',
    `CATEGORY=${p.name.startsWith('VRTS') ? 'system,utilities' : 'system'}`,
    p.name === 'VRTSvxvm' ? `DESC=${p.long} \\\n and Dynamic Multi-Pathing` : `DESC=${p.long}`,
    `VENDOR=${p.vendor ?? 'Sun Microsystems, Inc.'}`,
    'HOTLINE=Please contact your local service provider',
    'EMAIL=',
    `CLASSES=${p.classes ?? 'none'}`,
    `BASEDIR=/`,
    'SUNW_PKGVERS=1.0',
    `SUNW_PKG_ALLZONES=${p.allZones}`,
    `SUNW_PKG_HOLLOW=${p.hollow}`,
    `SUNW_PKG_THISZONE=${p.thisZone ?? false}`,
    `PSTAMP=${p.name.startsWith('VRTS') ? 'VERITAS-5.0_MP3:2008-10-16' : `on10ptchfeat${p.version.replace(/.*REV=/, '').replace(/\./g, '')}`}`,
  ];
  if (!spool) {
    lines.push(`PKGINST=${p.name}`, `PKGSAV=/var/sadm/pkg/${p.name}/save`, `INSTDATE=${instDate(tInst + 600)}`);
    if (p.patches.length) {
      lines.push(`PATCHLIST=${p.patches.join(' ')}`);
      for (const id of p.patches) {
        const [num] = id.split('-');
        const obs = num === '141444' || num === '141445' ? '118731-01 138053-02 ' : '';
        const req = num === '141444' || num === '141445' ? p.patches.filter((x) => x !== id).join(' ') + ' ' : '';
        lines.push(`PATCH_INFO_${id}=Installed: ${solDate(patchDates.get(id) ?? tInst)} From: mum Obsoletes: ${obs}Requires: ${req}Incompatibles: `);
      }
      lines.push(`PATCH_PROGRESSIVE=false`);
    }
    lines.push('OAMBASE=/usr/sadm/sysadm', 'PATH=/sbin:/usr/sbin:/usr/bin:/usr/sadm/install/bin', `INSTALL_TZ=US/Pacific`);
  }
  return lines.join('\n') + '\n';
}

/** One contents(4) line for a spec; `undefined` if the path belongs to no package. */
function contentsLine(s: Spec, written: Map<string, Written>, dirPkgs: Map<string, Set<string>>): string | undefined {
  const own = (uid: number) => (Object.entries(UID).find(([, v]) => v === uid)?.[0] ?? String(uid));
  const grp = (gid: number) => (Object.entries(GID).find(([, v]) => v === gid)?.[0] ?? String(gid));
  const mode = (m: number) => m.toString(8).padStart(4, '0');
  const p = `/${s.path}`;
  if (s.kind === 'dir') {
    const pk = dirPkgs.get(s.path);
    if (!pk || pk.size === 0) return undefined;
    return `${p} d none ${mode(s.mode)} ${own(s.uid)} ${grp(s.gid)} ${[...pk].sort().join(' ')}`;
  }
  if (!s.pkg) return undefined;
  const pkgs = s.pkg.pkgs.join(' ');
  if (s.kind === 'symlink') return `${p}=${s.target} s ${s.pkg.cls} ${pkgs}`;
  if (s.kind === 'hardlink') {
    const rel = path.posix.relative(path.posix.dirname(s.path), s.target!);
    return `${p}=./${rel} l ${s.pkg.cls} ${pkgs}`;
  }
  const w = written.get(s.path) ?? { size: 0, sum: 0 };
  return `${p} ${s.pkg.type} ${s.pkg.cls} ${mode(s.mode)} ${own(s.uid)} ${grp(s.gid)} ${w.size} ${w.sum} ${Math.floor(s.mtime)} ${pkgs}`;
}

function dirPackages(tree: Tree): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const s of tree.specs.values()) {
    if (!s.pkg || s.kind === 'dir') continue;
    for (let d = path.posix.dirname(s.path); d !== '.'; d = path.posix.dirname(d)) {
      const set = m.get(d) ?? new Set<string>();
      for (const p of s.pkg.pkgs) set.add(p);
      m.set(d, set);
    }
  }
  return m;
}

function contents(tree: Tree, written: Map<string, Written>): Buffer {
  const dp = dirPackages(tree);
  const lines: string[] = [];
  const specs = [...tree.specs.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const s of specs) {
    const l = contentsLine(s, written, dp);
    if (l) lines.push(l);
  }
  return Buffer.from(lines.join('\n') + '\n', 'latin1');
}

function pkgmap(pkg: string, tree: Tree, written: Map<string, Written>): Buffer {
  const own = (uid: number) => (Object.entries(UID).find(([, v]) => v === uid)?.[0] ?? String(uid));
  const grp = (gid: number) => (Object.entries(GID).find(([, v]) => v === gid)?.[0] ?? String(gid));
  const mode = (m: number) => m.toString(8).padStart(4, '0');
  const mine = [...tree.specs.values()].filter((s) => s.pkg?.pkgs.includes(pkg)).sort((a, b) => (a.path < b.path ? -1 : 1));
  const dirs = new Set<string>();
  for (const s of mine) for (let d = path.posix.dirname(s.path); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  const lines: string[] = [];
  let blocks = 0;
  for (const d of [...dirs].sort()) {
    const s = tree.specs.get(d)!;
    lines.push(`1 d none ${d} ${mode(s.mode)} ${own(s.uid)} ${grp(s.gid)}`);
  }
  for (const s of mine) {
    if (s.kind === 'symlink') lines.push(`1 s ${s.pkg!.cls} ${s.path}=${s.target}`);
    else if (s.kind === 'hardlink') lines.push(`1 l ${s.pkg!.cls} ${s.path}=${s.target}`);
    else if (s.kind === 'file') {
      const w = written.get(s.path) ?? { size: 0, sum: 0 };
      blocks += Math.ceil(w.size / 512);
      lines.push(`1 ${s.pkg!.type} ${s.pkg!.cls} ${s.path} ${mode(s.mode)} ${own(s.uid)} ${grp(s.gid)} ${w.size} ${w.sum} ${Math.floor(s.mtime)}`);
    }
  }
  const key = (l: string) => l.split(' ')[3]!.split('=')[0]!;
  lines.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  lines.push('1 i copyright 56 4867 1106434528', '1 i depend 1026 47914 1106434528', `1 i pkginfo ${600 + pkg.length} 49588 1106434600`);
  return Buffer.from(`: 1 ${blocks + 16}\n${lines.join('\n')}\n`, 'latin1');
}
