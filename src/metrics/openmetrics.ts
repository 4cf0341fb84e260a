/**
 * prom-client's Prometheus text render made OpenMetrics, as prom-client's own OpenMetrics render
 * would write it: counter headers lose `_total` (samples keep it), no blank lines, `# EOF` last.
 *
 * Why not prom-client's OpenMetrics registry: rendering OpenMetrics renames each counter object
 * (`x_total` becomes `x` for good), so a registry sharing those objects then writes its Prometheus
 * text samples without `_total`. One registry, rendered as text, converted here, never does.
 */
export function openMetricsFromText(text: string): string {
  const out: string[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n').filter((line) => line !== '');
    const type = /^# TYPE (\S+) counter$/.exec(lines[1] ?? '');
    const name = type?.[1];
    if (name !== undefined && lines[0]?.startsWith(`# HELP ${name} `)) {
      const base = name.replace(/_total$/, '');
      lines[0] = `# HELP ${base} ${lines[0].slice(`# HELP ${name} `.length)}`;
      lines[1] = `# TYPE ${base} counter`;
      if (base === name) {
        // A counter named without _total: OpenMetrics samples still carry it.
        for (let i = 2; i < lines.length; i++) lines[i] = (lines[i] ?? '').replace(/^[^{ ]+/, `${name}_total`);
      }
    }
    out.push(...lines);
  }
  return `${out.map((line) => `${line}\n`).join('')}# EOF\n`;
}
