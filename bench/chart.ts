// A small SVG chart, no dependencies: one horizontal bar per tool, grouped
// by case and target, its length the ratio to the fastest reference
// (1.0 = as fast as it; shorter is faster).

import type { Row } from './report.js';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function ratioChart(rows: Row[], title: string): string {
  const rs = rows.filter((r) => r.status === 'ok' && r.ratio !== null);
  const groups: { key: string; rows: Row[] }[] = [];
  for (const r of rs) {
    const key = r.target === '-' ? `${r.case}` : `${r.case} / ${r.target}`;
    let g = groups[groups.length - 1];
    if (!g || g.key !== key) groups.push((g = { key, rows: [] }));
    g.rows.push(r);
  }
  const labelW = 250;
  const barW = 520;
  const rowH = 16;
  const gap = 10;
  const top = 44;
  const maxRatio = Math.max(1.5, ...rs.map((r) => r.ratio!));
  const cap = maxRatio > 12 ? 12 : maxRatio;
  const step = cap <= 3 ? 0.5 : cap <= 6 ? 1 : 2;
  const scaleMax = Math.ceil(cap / step) * step;
  const x = (v: number) => labelW + (Math.min(v, scaleMax) / scaleMax) * barW;
  let y = top;
  const parts: string[] = [];
  for (const g of groups) {
    parts.push(`<text x="6" y="${y + 12}" class="g">${esc(g.key)}</text>`);
    y += rowH;
    for (const r of g.rows) {
      const z = r.tool.startsWith('zonep2v');
      const w = Math.max(1, x(r.ratio!) - labelW);
      parts.push(`<text x="${labelW - 6}" y="${y + 12}" class="t" text-anchor="end">${esc(r.tool)}${r.reference ? ' *' : ''}</text>`);
      parts.push(`<rect x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 4}" class="${z ? 'z' : 'r'}"/>`);
      const over = r.ratio! > scaleMax ? ' ▶' : '';
      parts.push(`<text x="${(labelW + w + 4).toFixed(1)}" y="${y + 12}" class="v">${r.ratio!.toFixed(2)}x${over} (${r.medianSeconds!.toFixed(2)} s)</text>`);
      y += rowH;
    }
    y += gap;
  }
  const height = y + 20;
  const width = labelW + barW + 150;
  const grid: string[] = [];
  for (let v = 0; v <= scaleMax + 1e-9; v += step) {
    grid.push(`<line x1="${x(v).toFixed(1)}" y1="${top - 6}" x2="${x(v).toFixed(1)}" y2="${y - gap}" class="${Math.abs(v - 1) < 1e-9 ? 'one' : 'grid'}"/>`);
    grid.push(`<text x="${x(v).toFixed(1)}" y="${top - 10}" class="ax" text-anchor="middle">${v}x</text>`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<style>
.g{font-size:12px;font-weight:bold;fill:#222}.t{font-size:11px;fill:#333}.v{font-size:10px;fill:#444}.ax{font-size:10px;fill:#666}
.z{fill:#d9622b}.r{fill:#8a9bb0}.grid{stroke:#ddd;stroke-width:1}.one{stroke:#222;stroke-width:1;stroke-dasharray:4 3}
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="6" y="16" font-size="13" font-weight="bold">${esc(title)}</text>
${grid.join('\n')}
${parts.join('\n')}
<text x="6" y="${height - 6}" class="ax">ratio = median over rounds of time / fastest reference (*) in the same round; shorter is faster; orange = zonep2v</text>
</svg>
`;
}
