// Run the real CLI (bin/zonep2v.js) as a child process, as users and zoneadm do.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const BIN = path.resolve('bin/zonep2v.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { stdin?: string | Buffer; stdinFile?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    if (opts.stdinFile) fs.createReadStream(opts.stdinFile).pipe(child.stdin);
    else child.stdin.end(opts.stdin ?? '');
  });
}

/** A directory of fake Solaris commands that record their argv, to put first on PATH. */
export function fakeSolarisBin(dir: string, opts: { zonecfgInfo?: string; zoneadmExit?: number } = {}): { env: NodeJS.ProcessEnv; calls: () => string[] } {
  fs.mkdirSync(dir, { recursive: true });
  const calls = path.join(dir, 'calls.log');
  fs.writeFileSync(
    path.join(dir, 'zoneadm'),
    `#!/bin/sh\necho "zoneadm $*" >> '${calls}'\necho "zoneadm: attached $2"\nexit ${opts.zoneadmExit ?? 0}\n`,
    { mode: 0o755 },
  );
  if (opts.zonecfgInfo !== undefined) {
    const info = path.join(dir, 'zonecfg.info');
    fs.writeFileSync(info, opts.zonecfgInfo);
    fs.writeFileSync(path.join(dir, 'zonecfg'), `#!/bin/sh\necho "zonecfg $*" >> '${calls}'\ncat '${info}'\n`, { mode: 0o755 });
  }
  return {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    calls: () => (fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : []),
  };
}
