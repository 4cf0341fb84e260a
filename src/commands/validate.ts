import { builtinRegistry } from '../checks/registry.js';
import { loadConfigFile } from '../config/load.js';
import { estimateSeries } from '../metrics/series-estimate.js';
import { expectOnly, parseArgs, requireConfig } from './args.js';
import { printConfigError, printHelp } from './print.js';

export const validateHelp = `Usage: vantage validate -c FILE [--web.config.file FILE]

Checks a config file without running anything, and the web config file it names
(web.config_file, or --web.config.file as \`run\` takes it: TLS, certificates, basic auth).
Prints every problem as FILE:LINE:COL: message and exits 2, or prints a summary (targets,
checks, and the series they will write at one IP per target, against series_budget) and exits 0.`;

export async function validateCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['help']);
  if (args.flags.has('help')) return printHelp(validateHelp);
  expectOnly(args, ['config', 'web.config.file'], []);
  const file = requireConfig(args);
  try {
    const registry = builtinRegistry();
    const config = await loadConfigFile(file, { registry });
    const webFile = args.options.get('web.config.file') ?? config.web.configFile;
    // Loaded only when named: its loader brings TLS and a schema of its own.
    if (webFile !== undefined) await (await import('../web/web-config.js')).loadWebConfig(webFile);
    const targets = new Set(config.checks.map((c) => c.target.name)).size;
    process.stdout.write(`${file}: ok (${targets} targets, ${config.checks.length} checks)\n`);
    if (webFile !== undefined) process.stdout.write(`${webFile}: ok\n`);
    const series = estimateSeries(config.checks, (kind) => registry.get(kind), config.serverSets);
    const parts = [...series.byKind].map(([kind, n]) => `${kind} ${n}`);
    if (series.perTarget > 0) parts.push(`per target ${series.perTarget}`);
    if (series.serverSets > 0) parts.push(`server sets ${series.serverSets}`);
    const byKind = parts.join(', ');
    const over = series.total > config.seriesBudget ? ' (over the budget)' : '';
    process.stdout.write(
      `series: about ${series.total} at one IP per target (${byKind || 'none'}); ` +
        `series_budget ${config.seriesBudget}${over}\n`,
    );
    return 0;
  } catch (err) {
    return printConfigError(err);
  }
}
