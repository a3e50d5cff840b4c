// The least a directory needs to pass for a native Solaris 10 image in an
// install (sanity: etc/svc, usr, sbin, lib/svc, var/svc; whole root:
// sbin/zonename, usr/bin/chmod; release 10), and a host root of the same
// release: for install tests that build their own small variant of it.

import fs from 'node:fs';
import path from 'node:path';

/** Write `text` at `rel` under `root`, making the directories on the way. */
export function put(root: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text, 'latin1');
}

const RELEASE = 'OS=Solaris\nVERSION=10\nREV=0\n';

/** A minimal native image at `img` (plus `dirs`), and a host root at `host` of the same release. */
export function miniImage(img: string, host: string, dirs: string[] = []): void {
  for (const d of ['etc/svc', 'usr/bin', 'sbin', 'lib/svc', 'var/svc/manifest', ...dirs]) fs.mkdirSync(path.join(img, d), { recursive: true });
  put(img, 'usr/bin/chmod', '');
  put(img, 'sbin/zonename', '');
  for (const root of [img, host]) put(root, 'var/sadm/system/admin/INST_RELEASE', RELEASE);
}
