// The zonepath preflight (security.md D-15, sink/zonepath.ts): no symbolic
// link on the way, nothing on the way writable or owned by another user, an
// empty root. A refusal changes nothing.

import t, { type Test } from 'tap';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ArchiveError } from '../src/errors.js';
import { installRunning, prepareZonepath, readState, writeState } from '../src/sink/zonepath.js';
import { tmpdir } from './lib/tree.js';
import { isRoot } from './sink-lib.js';

const work = tmpdir('zonep2v-zonepath-');
fs.chmodSync(work, 0o755);
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

function refused(t: Test, zp: string, re: RegExp): void {
  try {
    prepareZonepath(zp);
    t.fail(`${zp} accepted`);
  } catch (e) {
    t.ok(e instanceof ArchiveError && e.kind === 'zonepath', `a zonepath error: ${String(e)}`);
    t.match((e as Error).message, re);
  }
}

t.test('a fresh zonepath is made 0700 with an empty root', async (t) => {
  const root = prepareZonepath(path.join(work, 'new/zp'));
  t.equal(fs.statSync(path.dirname(root)).mode & 0o7777, 0o700);
  t.same(fs.readdirSync(root), []);
});

t.test('a symbolic link on the way, a writable parent and a non-empty root are refused', async (t) => {
  fs.mkdirSync(path.join(work, 'real'));
  fs.symlinkSync(path.join(work, 'real'), path.join(work, 'link'));
  refused(t, path.join(work, 'link/zp'), /is a symbolic link/);
  t.same(fs.readdirSync(path.join(work, 'real')), [], 'nothing made through the link');
  fs.mkdirSync(path.join(work, 'open'), { mode: 0o777 });
  fs.chmodSync(path.join(work, 'open'), 0o777);
  refused(t, path.join(work, 'open/zp'), /writable by group or others/);
  fs.mkdirSync(path.join(work, 'full/root'), { recursive: true });
  fs.writeFileSync(path.join(work, 'full/root/precious'), 'x');
  refused(t, path.join(work, 'full'), /exists and contains data/);
});

t.test('a zonepath or parent owned by another user is refused, and left as it was', { skip: isRoot ? false : 'needs root (chown)' }, async (t) => {
  const theirs = path.join(work, 'theirs');
  fs.mkdirSync(theirs, { mode: 0o700 });
  fs.chownSync(theirs, 1000, 1000);
  refused(t, theirs, /owned by uid 1000, not by root/);
  t.equal(fs.statSync(theirs).mode & 0o7777, 0o700, 'mode untouched');
  t.notOk(fs.existsSync(path.join(theirs, 'root')), 'no root made in it');
  const parent = path.join(work, 'their-parent');
  fs.mkdirSync(parent, { mode: 0o755 });
  fs.chownSync(parent, 1000, 1000);
  refused(t, path.join(parent, 'zp'), /owned by uid 1000/);
  t.notOk(fs.existsSync(path.join(parent, 'zp')), 'nothing made under it');
});

t.test('an exclusive state marker is written once: a second install started at the same time stops', async (t) => {
  const zp = path.join(work, 'claimed');
  prepareZonepath(zp);
  const rec = { state: 'incomplete' as const, zone: 'z', source: 'a', started: 'now', pid: process.pid };
  writeState(zp, rec, true);
  t.throws(() => writeState(zp, { ...rec, pid: 1 }, true), /another install has just started/);
  t.equal(readState(zp)?.pid, process.pid, 'the first marker stays');
  t.same(fs.readdirSync(zp).sort(), ['.zonep2v-state', 'root'], 'no temporary file left');
});

t.test('installRunning: a live install pid only', async (t) => {
  const rec = { state: 'incomplete' as const, zone: 'z', source: 'a', started: 'now', pid: 0 };
  t.notOk(installRunning(rec), 'pid 0');
  t.notOk(installRunning({ ...rec, pid: process.pid }), 'this process');
  t.notOk(installRunning({ ...rec, pid: 1 }), 'a live pid that is not zonep2v (init)');
  t.notOk(installRunning({ ...rec, pid: 2 ** 22 + 12345 }), 'a dead pid');
  t.notOk(installRunning(undefined), 'no marker');

  // A Node process (the hook may be a link of any name, run by node) that
  // was running when the marker was written; the same pid in a marker
  // written before it started is a reused pid.
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 200));
  const later = new Date(Date.now() + 5000).toISOString();
  t.ok(installRunning({ ...rec, pid: child.pid!, started: later }), 'a node process started before its marker');
  t.notOk(installRunning({ ...rec, pid: child.pid!, started: '2001-01-01T00:00:00.000Z' }), 'a pid that started after the marker was written');
});
