// Small helpers shared by the bench scripts: paths, shell quoting, tool
// lookup, statistics.

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (dist/bench/x.js -> ../..). */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The CLI launcher, as users run it. */
export const BIN = path.join(REPO, 'bin', 'zonep2v.js');

/** The launcher's shebang (`#!/usr/bin/env -S NAME=VALUE... node FLAGS...`):
 * runs through process.execPath get its environment and node flags too. */
const SHEBANG = (/^#!\S*env\s+-S\s+(.*)$/.exec(fs.readFileSync(BIN, 'utf8').split('\n', 1)[0] ?? '')?.[1] ?? '').trim().split(/\s+/);
const NODE_AT = SHEBANG.indexOf('node');
/** The environment the shebang sets (MALLOC_ARENA_MAX). */
export const BIN_ENV: Record<string, string> = Object.fromEntries(
  SHEBANG.slice(0, Math.max(NODE_AT, 0)).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] as [string, string]),
);
/** The node flags of the shebang. */
export const BIN_NODE_FLAGS: string[] = NODE_AT < 0 ? [] : SHEBANG.slice(NODE_AT + 1);
/** process.env plus the shebang's environment, for spawning the launcher through process.execPath. */
export const binEnv = (base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => ({ ...base, ...BIN_ENV });
/** The compiled bench directory (for child scripts). */
export const DIST_BENCH = path.dirname(fileURLToPath(import.meta.url));

export function q(s: string): string {
  return /^[A-Za-z0-9_\/.,:=+@%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function which(cmd: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(':')) {
    if (!d) continue;
    const p = path.join(d, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Run a shell command synchronously; throws with its stderr on failure. */
export function sh(cmd: string, opts: { cwd?: string; quiet?: boolean } = {}): string {
  const r = spawnSync('bash', ['-c', `set -o pipefail; ${cmd}`], { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`\`${cmd}\` failed (${r.status ?? r.signal}): ${(r.stderr ?? '').trim().split('\n').slice(-5).join(' / ')}`);
  return r.stdout;
}

/** First line of a command's output (stdout or stderr), or undefined. */
export function firstLine(cmd: string): string | undefined {
  const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
  const s = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0]?.trim();
  return s || undefined;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Parse "300e6", "300M", "1G", "1GiB", "100MiB", "2000" into a number of bytes. */
export function parseSize(s: string): number {
  const m = /^\s*([0-9.]+(?:e[0-9]+)?)\s*([kmgt]?)(i?b?)\s*$/i.exec(s);
  if (!m) throw new Error(`not a size: ${s}`);
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  const binary = m[3]!.toLowerCase().startsWith('i') || (unit !== '' && m[3] === '');
  const base = binary ? 1024 : 1000;
  const pow = { '': 0, k: 1, m: 2, g: 3, t: 4 }[unit] ?? 0;
  const v = Math.round(n * base ** pow);
  if (!Number.isFinite(v) || v < 0) throw new Error(`not a size: ${s}`);
  return v;
}

export function humanBytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 100 || i === 0 ? n.toFixed(0) : n.toFixed(1)} ${u[i]}`;
}

export function rmrf(p: string): void {
  // `rm -rf` is faster than fs.rmSync on 20 000 entries, and clears read-only dirs as root.
  const r = spawnSync('rm', ['-rf', '--one-file-system', p]);
  if (r.status !== 0 && fs.existsSync(p)) fs.rmSync(p, { recursive: true, force: true });
}

export function log(s: string): void {
  process.stderr.write(`bench: ${s}\n`);
}
