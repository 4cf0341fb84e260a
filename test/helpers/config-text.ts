import { builtinRegistry } from '../../src/checks/registry.js';
import { ConfigError, formatDiagnostic, sortDiagnostics } from '../../src/config/diagnostics.js';
import { parseConfig } from '../../src/config/load.js';

const registry = builtinRegistry();

/** A config file's text parsed as `cfg.yaml` on a host named `host-1`. */
export function loadConfigText(text: string, env: NodeJS.ProcessEnv = {}) {
  return parseConfig('cfg.yaml', text, { registry, env, hostname: 'host-1' });
}

/** The formatted diagnostics of a config that must be rejected. */
export function configProblems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfigText(text, env);
  } catch (err) {
    if (err instanceof ConfigError) return sortDiagnostics(err.diagnostics).map(formatDiagnostic);
    throw err;
  }
  throw new Error('config was accepted');
}
