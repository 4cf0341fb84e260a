/** Text made safe for HTML text and attribute values (double-quoted). */
export function esc(value: string | number): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A number of milliseconds as people read it; '-' for none. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(value >= 10 ? 1 : 2)} ms`;
}

/** A wall-clock time in UTC, to the second. */
export function utc(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString().replace('T', ' ').slice(0, 19) : '-';
}

/** A table from already-escaped cells; `head` is escaped here. */
export function table(head: readonly string[], rows: readonly (readonly string[])[], attrs = ''): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<div class="scroll"><table${attrs}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** A chart's data table, folded away under it (always in the page: printable and searchable). */
export function dataTable(summary: string, tableHtml: string): string {
  return `<details class="data"><summary>${esc(summary)}</summary>${tableHtml}</details>`;
}

/**
 * Every style the pages use, inline: agents often reach nothing but their targets, so a page
 * may request nothing (no CDN, no font, no second file). Widths are fluid for phone screens.
 */
const STYLE = `
:root{--ok:#1a7f37;--bad:#c62828;--warn:#b26a00;--mute:#666;--line:#ddd;font-family:system-ui,sans-serif}
body{margin:0 auto;max-width:1200px;padding:0 12px 24px;color:#111;background:#fff;line-height:1.4}
header{display:flex;flex-wrap:wrap;gap:4px 16px;align-items:baseline;border-bottom:1px solid var(--line)}
h1{font-size:1.3rem;margin:10px 0}h2{font-size:1.1rem;margin:18px 0 6px}h3{font-size:1rem;margin:12px 0 4px}
table{border-collapse:collapse;font-size:.9rem;min-width:100%}
th,td{border-bottom:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top}
.scroll{overflow-x:auto}.mute{color:var(--mute)}.ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}
.cls-good{color:var(--ok)}.cls-bad{color:var(--warn)}.cls-offline{color:var(--bad)}.cls-unknown{color:var(--mute)}
svg{max-width:100%;height:auto;display:block}svg text{font:11px system-ui,sans-serif;fill:#333}
details.data{margin:4px 0 12px}details.data summary{cursor:pointer;color:var(--mute);font-size:.85rem}
.problems{border:1px solid var(--bad);padding:6px 10px;background:#fff5f5}
button,.button{font:inherit;padding:3px 10px;border:1px solid #888;border-radius:4px;background:#f4f4f4;color:#111;
text-decoration:none;cursor:pointer;display:inline-block}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;padding:8px;font-size:.85rem}
.legend span{display:inline-block;margin-right:10px;font-size:.85rem}
.swatch{display:inline-block;width:10px;height:10px;margin-right:3px;vertical-align:middle}
@media (max-width:600px){body{padding:0 6px}th,td{padding:2px 3px;font-size:.8rem}}
`;

/** A whole page: `body` is already-escaped HTML; `script` is trusted inline code (never user data). */
export function page(title: string, body: string, script = ''): string {
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1">` +
    // An empty icon: without it the browser asks for /favicon.ico, a request that can only fail.
    `<link rel="icon" href="data:,">` +
    `<title>${esc(title)}</title><style>${STYLE}</style></head>\n<body>\n${body}\n` +
    (script ? `<script>${script}</script>\n` : '') +
    `</body></html>\n`
  );
}
