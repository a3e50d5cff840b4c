// --command sources whose processes outlive the shell: a pipeline stage or a
// background job that keeps the output pipe open (a stalled ssh), and one
// that keeps only stderr open (an ssh ControlPersist master). A signal to
// zonep2v must stop the whole tree and roll back (254), not wait for the
// pipe; a command that has exited with its archive complete must not be
// waited on for the stderr another process holds.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { makeImage } from '../samples/image.js';
import { packImageReport } from '../samples/pack.js';
import { makeHostRoot } from '../samples/host.js';
import { tmpdir } from './lib/tree.js';
import { BIN } from './lib/cli.js';

const work = tmpdir('zonep2v-source-command-');
const img = path.join(work, 'image');
const host = path.join(work, 'host');
let pax = '';
/** Pids the commands wrote down, killed at the end whatever happened. */
const pidFiles: string[] = [];

t.teardown(() => {
  for (const f of pidFiles) {
    const pid = Number(fs.readFileSync(f, { encoding: 'utf8', flag: 'a+' }).trim());
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
  }
  fs.rmSync(work, { recursive: true, force: true });
});

t.before(async () => {
  await makeImage(img, { files: 60, bytes: 512 * 1024, seed: 7 });
  pax = (await packImageReport(img, path.join(work, 'ar'), ['pax'])).files.pax!;
  makeHostRoot(img, host);
});

/** A process that exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

interface Run {
  stdout: () => string;
  stderr: () => string;
  kill: (s: NodeJS.Signals) => void;
  /** Exit, or hung: true when it had to be killed after `ms`. */
  done: (ms?: number) => Promise<{ code: number | null; hung: boolean }>;
}

function start(args: string[], opts: { closeStdout?: boolean } = {}): Run {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  // A reader that has gone away (`| head -1`): the first write fails with EPIPE.
  if (opts.closeStdout) child.stdout.destroy();
  else child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    stdout: () => out,
    stderr: () => err,
    kill: (s) => child.kill(s),
    done: async (ms = 30_000) => {
      let hung = false;
      const timer = setTimeout(() => {
        hung = true;
        child.kill('SIGKILL');
      }, ms);
      const code = await closed;
      clearTimeout(timer);
      return { code, hung };
    },
  };
}

async function waitFor(what: () => boolean, ms = 30_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

t.test('SIGTERM while a background process of the command holds the pipe: tree stopped, rolled back, 254', async (t) => {
  const zp = path.join(work, 'zones', 'held');
  const pf = path.join(work, 'held.pid');
  pidFiles.push(pf);
  const half = Math.floor(fs.statSync(pax).size / 2);
  // The shell waits on a process that inherited stdout and never writes: a stalled ssh.
  const cmd = `head -c ${half} ${q(pax)}; sleep 1000 & echo $! > ${q(pf)}; wait`;
  const r = start(['install', 'web1', zp, '--command', cmd, '-u', '--host-root', host, '--log', path.join(work, 'held.log'), '--json']);
  t.ok(await waitFor(() => fs.existsSync(pf) && fs.readFileSync(pf, 'utf8').trim() !== '' && r.stdout().includes('"event":"start"')), 'the command runs and the install started');
  const pid = Number(fs.readFileSync(pf, 'utf8').trim());
  t.ok(alive(pid), 'the background process runs');
  r.kill('SIGTERM');
  const res = await r.done();
  t.notOk(res.hung, 'exited after the signal (the held pipe did not keep it waiting)');
  t.equal(res.code, 254, r.stderr());
  t.match(r.stderr(), /interrupted by SIGTERM/);
  t.notOk(fs.existsSync(path.join(zp, '.zonep2v-state')), 'no state file left');
  t.same(fs.existsSync(path.join(zp, 'root')) ? fs.readdirSync(path.join(zp, 'root')) : [], [], 'the root is empty');
  t.ok(await waitFor(() => !alive(pid), 10_000), 'the background process was stopped too');
});

t.test('a command that exits 0 while a process it left holds stderr: finishes once the archive is read', async (t) => {
  const pf = path.join(work, 'stderr.pid');
  pidFiles.push(pf);
  // The leftover keeps stderr (only) open, as an ssh ControlPersist master does.
  const cmd = `cat ${q(pax)}; sleep 1000 >/dev/null & echo $! > ${q(pf)}`;
  const r = start(['list', '--command', cmd]);
  const res = await r.done();
  t.notOk(res.hung, 'did not wait for the leftover process');
  t.equal(res.code, 0, r.stderr());
  t.match(r.stdout(), /etc\/release/, 'the archive was listed');
});

t.test('the end of a failing command\'s stderr is in the message, after any amount of chatter', async (t) => {
  const cmd = `i=0; while [ $i -lt 2000 ]; do echo "progress line $i of the remote side" >&2; i=$((i+1)); done; echo 'ssh: connection reset by peer' >&2; exit 255`;
  const r = start(['list', '--command', cmd]);
  const res = await r.done();
  t.equal(res.code, 1, r.stderr());
  t.match(r.stderr(), /source command exited with status 255: .*ssh: connection reset by peer/);
});

t.test('list and inspect: a signal stops the command\'s processes too', async (t) => {
  for (const cmd of ['list', 'inspect']) {
    const pf = path.join(work, `${cmd}-signal.pid`);
    pidFiles.push(pf);
    const r = start([cmd, '--command', `sleep 1000 & echo $! > ${q(pf)}; wait`, ...(cmd === 'inspect' ? ['--host-root', host] : [])]);
    t.ok(await waitFor(() => fs.existsSync(pf) && fs.readFileSync(pf, 'utf8').trim() !== ''), `${cmd}: the command runs`);
    const pid = Number(fs.readFileSync(pf, 'utf8').trim());
    r.kill('SIGTERM');
    const res = await r.done();
    t.notOk(res.hung, `${cmd}: exited after the signal`);
    // inspect's 1 says "an install would fail": a signal gives the shell's 128+N instead.
    t.equal(res.code, cmd === 'inspect' ? 143 : 1, `${cmd}: exit status\n${r.stderr()}`);
    t.match(r.stderr(), /interrupted by SIGTERM/, `${cmd}: says so`);
    t.ok(await waitFor(() => !alive(pid), 10_000), `${cmd}: the command's process was stopped`);
  }
});

t.test('list | head: the reader goes away (EPIPE, exit 141) and the command\'s processes are stopped too', async (t) => {
  const pf = path.join(work, 'epipe.pid');
  pidFiles.push(pf);
  const r = start(['list', '--command', `sleep 1000 & echo $! > ${q(pf)}; cat ${q(pax)}; wait`], { closeStdout: true });
  const res = await r.done();
  t.notOk(res.hung, 'exited');
  t.equal(res.code, 141, r.stderr());
  const pid = Number(fs.readFileSync(pf, 'utf8').trim());
  t.ok(await waitFor(() => !alive(pid), 10_000), 'the command\'s background process was stopped');
});

t.test('a successful command\'s stderr goes to the install log, control characters escaped', async (t) => {
  const zp = path.join(work, 'zones', 'said');
  const log = path.join(work, 'said.log');
  const cmd = `printf 'flarcreate: warning: 3 files changed while archiving\\n\\033[31mred\\033[0m\\n' >&2; cat ${q(pax)}`;
  const r = start(['install', 'said', zp, '--command', cmd, '-p', '-s', '--host-root', host, '--log', log]);
  const res = await r.done();
  t.equal(res.code, 0, r.stderr());
  const text = fs.readFileSync(log, 'utf8');
  t.match(text, /source command: flarcreate: warning: 3 files changed while archiving/);
  t.match(text, /source command: \\x1b\[31mred\\x1b\[0m/, 'no raw escape sequence reaches the log or a terminal');
  t.notMatch(text, /\x1b/);
});
