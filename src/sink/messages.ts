// Texts both sink threads report (fs.ts on the main thread, write-worker.ts
// on the file-writing one), so a message reads the same whichever wrote it.

export const STILL_TAKEN = 'EEXIST: the path is still taken after removing what was there';
export const STILL_TAKEN_HINT = 'something else is writing into the target directory: stop it and retry';

/** An entry that would replace a directory that cannot go (non-empty, or a mount point). */
export function replaceRefused(newType: string, code: string | undefined): { message: string; hint: string } {
  return { message: `a ${newType} entry would replace a ${code === 'EBUSY' ? 'mount point' : 'non-empty directory'}`, hint: 'tar replaces only empty directories' };
}

/** A hard link whose target is not there (not extracted, or its own write failed). */
export function linkTargetMissing(shown: string): { message: string; hint: string } {
  return { message: `hard-link target ${shown} was not extracted by this run`, hint: 'hard links may only point at earlier entries of the same archive' };
}

/** A hard link whose target is something other than a regular file of the root's file system. */
export function linkTargetNotFile(shown: string): { message: string; hint: string } {
  return { message: `hard-link target ${shown} is not a regular file`, hint: 'hard links may only point at regular files' };
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

/** A body the archive ends inside of, in the words of the parsers (cpio.ts, tar.ts). */
export function bodyCut(left: number, n: number): string {
  return `unexpected end of input in file data: ${left} of ${n} bytes missing`;
}
