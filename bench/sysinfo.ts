// The machine a result was measured on: CPUs, memory, kernel, Node, the
// reference tools' versions, the file systems of the targets.

import fs from 'node:fs';
import os from 'node:os';
import { firstLine, which } from './util.js';

export interface Machine {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  load: number[];
  tools: Record<string, string>;
}

const VERSIONS: [string, string][] = [
  ['cpio', 'cpio --version'],
  ['tar', 'tar --version'],
  ['bsdtar', 'bsdtar --version'],
  ['gzip', 'gzip --version'],
  ['bzip2', 'bzip2 --help 2>&1 </dev/null'],
  ['lbzip2', 'lbzip2 --version'],
  ['compress', 'compress -V 2>&1'],
  ['restore', 'restore --version 2>&1 | grep -v invalid'],
  ['dump', 'dump --version 2>&1 | grep -v invalid'],
  ['mke2fs', 'mke2fs -V 2>&1'],
];

export function machine(): Machine {
  const tools: Record<string, string> = {};
  for (const [t, cmd] of VERSIONS) {
    if (!which(t)) {
      tools[t] = 'not installed';
      continue;
    }
    tools[t] = (firstLine(`(${cmd}) </dev/null`) ?? '?').replace(/\s+/g, ' ').slice(0, 90);
  }
  const time = fs.existsSync('/usr/bin/time') ? (firstLine('/usr/bin/time --version 2>&1') ?? 'present') : 'not installed';
  tools.time = time;
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu: os.cpus()[0]?.model ?? '?',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    load: os.loadavg().map((l) => Math.round(l * 100) / 100),
    tools,
  };
}

/** File system type of the mount that holds `p` (from /proc/mounts, longest prefix). */
export function fsType(p: string): string {
  try {
    const real = fs.realpathSync(p);
    let best = '';
    let type = '?';
    for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, mnt, t] = line.split(' ');
      if (!mnt || !t) continue;
      const m = mnt.replace(/\\040/g, ' ');
      if ((real === m || real.startsWith(m.endsWith('/') ? m : `${m}/`)) && m.length >= best.length) {
        best = m;
        type = t;
      }
    }
    return type;
  } catch {
    return '?';
  }
}

export function memAvailable(): number {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* fall through */
  }
  return os.freemem();
}
