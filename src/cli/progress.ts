// A one-line progress display on stderr: shown on a terminal, or when asked
// (--progress), never mixed into stdout. Redraws at most a few times a second.

export interface ProgressLine {
  update(entries: number, bytes: number, inputBytes: number): void;
  done(): void;
}

function human(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

/**
 * `total`: the input's expected size, for the ETA; a function when it is
 * learnt while reading (a flar's files_archived_size, from a pipe).
 */
export function progressLine(enabled: boolean, total?: number | (() => number | undefined), stream: NodeJS.WriteStream = process.stderr): ProgressLine {
  if (!enabled) return { update() {}, done() {} };
  const start = Date.now();
  let last = 0;
  let shown = false;
  return {
    update(entries, bytes, inputBytes) {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      const secs = (now - start) / 1000;
      const rate = bytes / Math.max(secs, 0.001);
      let line = `${entries} entries, ${human(bytes)}, ${human(rate)}/s`;
      const expected = typeof total === 'function' ? total() : total;
      if (expected && inputBytes > 0) {
        const frac = Math.min(inputBytes / expected, 1);
        const eta = frac > 0 ? (secs / frac) * (1 - frac) : 0;
        const width = 20;
        const fill = Math.round(frac * width);
        line = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0)}% ${line}, ETA ${Math.ceil(eta)}s`;
      }
      stream.write(`\r${line}\x1b[K`);
      shown = true;
    },
    // Also before any other line goes to the stream (an error, a warning):
    // it would be glued to the bar. Idempotent; the next update redraws.
    done() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}

export { human };
