// Hand-over: a fake zoneadm on PATH records its argv; the --attach-command
// fallback gets ZONENAME and ZONEPATH; without either nothing is done and
// the result says so.

import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { handOver } from '../src/attach/handover.js';

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handover-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A zoneadm that writes its argv (one per line) to `record` and exits `code`. */
function fakeZoneadm(dir: string, code: number): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const record = path.join(dir, 'argv');
  fs.writeFileSync(
    path.join(bin, 'zoneadm'),
    `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\necho "Attaching..."\necho "warning: something" >&2\nprintf 'no newline'\nexit ${code}\n`,
    { mode: 0o755 },
  );
  return record;
}

t.test('zoneadm on PATH: attach -U, output logged', async (t) => {
  const dir = tmp(t);
  const record = fakeZoneadm(dir, 0);
  const log: string[] = [];
  const r = await handOver({ zone: 'web1', zonepath: '/zones/web1', attachCommand: 'exit 7', backout: ['119254-59'], log: (s) => log.push(s), env: { PATH: path.join(dir, 'bin') } });
  t.same(r, { done: true, how: 'zoneadm -z web1 attach -U -b 119254-59' });
  t.equal(fs.readFileSync(record, 'utf8'), '-z\nweb1\nattach\n-U\n-b\n119254-59\n', 'argv as zoneadm saw it; attach command not used');
  t.same(log.sort(), ['Attaching...', 'no newline', 'running: zoneadm -z web1 attach -U -b 119254-59', 'warning: something']);
});

t.test('zoneadm failing is an error', async (t) => {
  const dir = tmp(t);
  fakeZoneadm(dir, 1);
  await t.rejects(handOver({ zone: 'web1', zonepath: '/zones/web1', log: () => {}, env: { PATH: path.join(dir, 'bin') } }), {
    name: 'HandOverError',
    message: 'zoneadm -z web1 attach -U exited with status 1',
    exitCode: 1,
  });
});

t.test('no zoneadm: the attach command runs with ZONENAME and ZONEPATH', async (t) => {
  const dir = tmp(t);
  const out = path.join(dir, 'out');
  const log: string[] = [];
  const cmd = `printf '%s %s\\n' "$ZONENAME" "$ZONEPATH" > '${out}'; echo done`;
  const r = await handOver({ zone: 'web1', zonepath: '/zones/web 1', attachCommand: cmd, log: (s) => log.push(s), env: { PATH: dir } });
  t.same(r, { done: true, how: `attach command: ${cmd}` });
  t.equal(fs.readFileSync(out, 'utf8'), 'web1 /zones/web 1\n');
  t.equal(log[log.length - 1], 'done');
  await t.rejects(handOver({ zone: 'web1', zonepath: '/z', attachCommand: 'exit 3', log: () => {}, env: { PATH: dir } }), {
    message: 'attach command "exit 3" exited with status 3',
    exitCode: 3,
  });
});

t.test('neither: nothing done, and the result says so', async (t) => {
  const dir = tmp(t);
  const log: string[] = [];
  const r = await handOver({ zone: 'web1', zonepath: '/zones/web1', log: (s) => log.push(s), env: { PATH: dir } });
  t.same(r, {
    done: false,
    how: 'not attached: no zoneadm on PATH and no --attach-command; the image is in /zones/web1, attach it on a Solaris host with: zoneadm -z web1 attach -U',
  });
  t.same(log, []);
  await t.rejects(handOver({ zone: '-F', zonepath: '/z', log: () => {}, env: { PATH: dir } }), { message: /invalid zone name/ });
});
