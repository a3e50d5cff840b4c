// Texts both sink threads report (fs.ts on the main thread, write-worker.ts
// on the file-writing one), so a message reads the same whichever wrote it.

export const STILL_TAKEN = 'EEXIST: the path is still taken after removing what was there';

/** An entry that would replace a directory that cannot go (non-empty, or a mount point). */
export function replaceRefused(newType: string, code: string | undefined): { message: string; hint: string } {
  return { message: `a ${newType} entry would replace a ${code === 'EBUSY' ? 'mount point' : 'non-empty directory'}`, hint: 'tar replaces only empty directories' };
}

export function chownFailed(uid: number, gid: number, code: string | undefined, mode: number): string {
  return `cannot set owner ${uid}:${gid} (${code ?? 'error'})${mode & 0o6000 ? '; setuid/setgid bits dropped' : ''}`;
}

export function mtimeFailed(mtime: number, code: string | undefined): string {
  return `cannot set the modification time ${mtime} (${code ?? 'error'})`;
}

export function modeNotKept(want: number, got: number): string {
  return `mode 0${want.toString(8)} did not stick (file system gave 0${got.toString(8)})`;
}
