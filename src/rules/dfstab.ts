// /etc/dfs/dfstab (solaris-p2v.md 3.5, fix_nfs): a zone cannot be an NFS
// server, so every line that is not a comment is commented out: `share`,
// `share -F nfs ...`, `shareall` and anything else alike. The changed file is
// root:sys 0644; an unchanged one keeps its owner and mode. Shares are also
// disabled through SMF (network/shares/group, see smf.ts).

import { commentOutRule } from './commentout.js';

export const DFSTAB = 'dfstab';

export const dfstabRule = commentOutRule({ name: DFSTAB, file: 'etc/dfs/dfstab', keep: () => false, ownerAlways: false });
