// `-a -` with stdin on a terminal (the pipe forgotten): every command refuses
// with 253 before anything is written, instead of waiting for an archive
// typed on the keyboard (install had already written its state marker).
// The terminal is a pseudo-terminal from script(1), whose own input is kept
// open so that the terminal never reads an end of file.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from './lib/tree.js';
import { BIN } from './lib/cli.js';

const work = tmpdir('zonep2v-stdin-tty-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

const haveScript = spawnSync('script', ['-qec', 'true', '/dev/null'], { stdio: 'ignore' }).status === 0;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The CLI on a terminal; its output (through the terminal) and exit code, or hung. */
function onTerminal(args: string[], ms = 20_000): Promise<{ out: string; code: number | undefined; hung: boolean }> {
  const cmd = `${q(process.execPath)} ${q(BIN)} ${args.map(q).join(' ')}; echo "EXIT=$?"`;
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => {});
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  return new Promise((resolve) => {
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.stdin.end(); // the terminal reads an end of file: a hung CLI then fails and exits
    }, ms);
    child.on('close', () => {
      clearTimeout(timer);
      const m = /EXIT=(\d+)/.exec(out);
      resolve({ out, code: m ? Number(m[1]) : undefined, hung });
    });
  });
}

const skip = haveScript ? false : 'script(1) is not installed';

t.test('list, extract, inspect: refused with 253', { skip }, async (t) => {
  const dest = path.join(work, 'x');
  fs.mkdirSync(dest);
  for (const args of [['list', '-a', '-'], ['extract', '-a', '-', '-C', dest], ['inspect', '-a', '-', '--host-root', work]]) {
    const r = await onTerminal(args);
    t.notOk(r.hung, `${args[0]}: did not wait for the keyboard`);
    t.equal(r.code, 253, `${args[0]}: 253\n${r.out}`);
    t.match(r.out, /stdin is a terminal/, `${args[0]}: says why`);
  }
  t.same(fs.readdirSync(dest), [], 'extract wrote nothing');
});

t.test('install: refused with 253, nothing written in the zonepath', { skip }, async (t) => {
  const zp = path.join(work, 'zones', 'web1');
  const r = await onTerminal(['install', 'web1', zp, '-a', '-', '-u', '--host-root', work, '--log', path.join(work, 'install.log')]);
  t.notOk(r.hung, 'did not wait for the keyboard');
  t.equal(r.code, 253, r.out);
  t.match(r.out, /stdin is a terminal/);
  t.notOk(fs.existsSync(zp), 'the zonepath was not created');
});

t.test('stdin a directory: refused with 253 (Node reads it as empty: "the input is empty" hid the mistake)', async (t) => {
  const dest = path.join(work, 'x-dir');
  fs.mkdirSync(dest);
  for (const args of [['list', '-a', '-'], ['extract', '-a', '-', '-C', dest], ['install', 'web1', path.join(work, 'zones', 'dir'), '-a', '-', '-u', '--host-root', work, '--log', path.join(work, 'dir.log')]]) {
    const fd = fs.openSync(work, 'r');
    const child = spawn(process.execPath, [BIN, ...args], { stdio: [fd, 'pipe', 'pipe'] });
    fs.closeSync(fd);
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.stdout!.resume();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    t.equal(code, 253, `${args[0]}: 253\n${err}`);
    t.match(err, /stdin is a directory/, `${args[0]}: says why`);
  }
  t.notOk(fs.existsSync(path.join(work, 'zones', 'dir')), 'install created nothing');
});
