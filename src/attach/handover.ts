// Hand the finished zone over (solaris-p2v.md 4.1): on a Solaris host,
// `zoneadm -z <zone> attach -U [-b <patch>]...` (update on attach brings the
// image to the host's package level and marks the zone installed); elsewhere
// a configured command; otherwise nothing, said plainly in the result.

import { spawn } from 'node:child_process';
import { findOnPath } from './which.js';
import { validZoneName } from './zonecfg.js';

export interface HandOverOptions {
  zone: string;
  zonepath: string;
  /** --attach-command: run with /bin/sh -c, ZONENAME and ZONEPATH in its environment. */
  attachCommand?: string;
  /** Patches to back out during the attach (install -b), passed as -b <id>. */
  backout?: string[];
  /** Receives what the command prints, a line at a time. */
  log: (s: string) => void;
  /** Environment for the lookup and the child (PATH); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface HandOverResult {
  /** Whether the zone was attached (a command ran and succeeded). */
  done: boolean;
  /** What was run, or why nothing was. */
  how: string;
}

export class HandOverError extends Error {
  readonly exitCode: number | null;
  constructor(message: string, exitCode: number | null) {
    super(message);
    this.name = 'HandOverError';
    this.exitCode = exitCode;
  }
}

function lineLogger(log: (s: string) => void): { push(chunk: Buffer): void; end(): void } {
  let rest = '';
  return {
    push(chunk) {
      rest += chunk.toString('utf8');
      const lines = rest.split('\n');
      rest = lines.pop()!;
      for (const l of lines) log(l);
    },
    end() {
      if (rest) log(rest);
      rest = '';
    },
  };
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, log: (s: string) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = lineLogger(log);
    const err = lineLogger(log);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      out.end();
      err.end();
      resolve({ code, signal });
    });
  });
}

function failure(what: string, r: { code: number | null; signal: NodeJS.Signals | null }): HandOverError {
  const how = r.signal ? `was killed by ${r.signal}` : `exited with status ${r.code}`;
  return new HandOverError(`${what} ${how}`, r.code);
}

export async function handOver(opts: HandOverOptions): Promise<HandOverResult> {
  if (!validZoneName(opts.zone)) throw new HandOverError(`invalid zone name ${JSON.stringify(opts.zone)}`, null);
  const env = opts.env ?? process.env;
  const zoneadm = await findOnPath('zoneadm', env.PATH);
  if (zoneadm) {
    const args = ['-z', opts.zone, 'attach', '-U'];
    for (const b of opts.backout ?? []) args.push('-b', b);
    const shown = `zoneadm ${args.join(' ')}`;
    opts.log(`running: ${shown}`);
    const r = await run(zoneadm, args, env, opts.log);
    if (r.code !== 0) throw failure(shown, r);
    return { done: true, how: shown };
  }
  if (opts.attachCommand) {
    const shown = `/bin/sh -c ${JSON.stringify(opts.attachCommand)}`;
    opts.log(`running: ${shown} (ZONENAME=${opts.zone} ZONEPATH=${opts.zonepath})`);
    const r = await run('/bin/sh', ['-c', opts.attachCommand], { ...env, ZONENAME: opts.zone, ZONEPATH: opts.zonepath }, opts.log);
    if (r.code !== 0) throw failure(`attach command ${JSON.stringify(opts.attachCommand)}`, r);
    return { done: true, how: `attach command: ${opts.attachCommand}` };
  }
  return {
    done: false,
    how: `not attached: no zoneadm on PATH and no --attach-command; the image is in ${opts.zonepath}, attach it on a Solaris host with: zoneadm -z ${opts.zone} attach -U`,
  };
}
