// /etc/vfstab (solaris-p2v.md 3.6, fix_vfstab): a line stays active when its
// first field is fd, /proc, swap, ctfs, objfs or sharefs, or its fourth (FS
// type) is nfs or lofs; any other non-comment line is commented out. So "/",
// /usr, /var, UFS, SVM (/dev/md/dsk) and ZFS data file systems, /devices and
// swap devices ("/dev/dsk/c0t0d0s1 - - swap - no -": the first field is the
// device) are commented out, and "swap - /tmp tmpfs" is kept. The file is
// always left root:sys 0644 (solaris10).

import { commentOutRule } from './commentout.js';

export const VFSTAB = 'vfstab';

const KEEP_FIRST = new Set(['fd', '/proc', 'swap', 'ctfs', 'objfs', 'sharefs']);

export function vfstabKeep(f: string[]): boolean {
  return KEEP_FIRST.has(f[0]!) || f[3] === 'nfs' || f[3] === 'lofs';
}

export const vfstabRule = commentOutRule({ name: VFSTAB, file: 'etc/vfstab', keep: vfstabKeep, ownerAlways: true });
