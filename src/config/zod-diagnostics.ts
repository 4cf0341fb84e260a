import type { z } from 'zod';
import type { Diagnostic } from './diagnostics.js';
import type { ConfigPath } from '../settings/config-path.js';
import type { YamlSource } from './yaml-source.js';

/** `['targets', 0, 'checks', 1, 'port']` -> `targets[0].checks[1].port`. */
export function formatPath(path: ConfigPath): string {
  return path.reduce<string>(
    (out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : out ? `${out}.${seg}` : seg),
    '',
  );
}

/** Turns schema issues into located diagnostics naming the field (one per unknown key). */
export function issuesToDiagnostics(
  source: YamlSource,
  base: ConfigPath,
  issues: readonly z.core.$ZodIssue[],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
    const where = formatPath(path) || 'top level';
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push(source.diagnostic([...path, key], `${formatPath([...path, key])}: unknown key "${key}"`, true));
      }
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      out.push(source.diagnostic(path, `${where}: required ${issue.expected} is missing`, true));
    } else {
      out.push(source.diagnostic(path, `${where}: ${issue.message}`));
    }
  }
  return out;
}
