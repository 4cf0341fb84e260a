import type { z } from 'zod';
import type { Diagnostic } from './diagnostics.js';
import type { ConfigPath } from '../settings/config-path.js';
import type { YamlSource } from './yaml-source.js';
import { issuesToDiagnostics } from './zod-diagnostics.js';

/** Collects located diagnostics while a config is checked: nothing throws until all is seen. */
export class Reporter {
  readonly diagnostics: Diagnostic[];

  constructor(private readonly source: YamlSource) {
    this.diagnostics = [...source.diagnostics];
  }

  /** A problem at the value of `path` (at its key with `onKey`, e.g. for a bad key name). */
  add(path: ConfigPath, message: string, onKey = false): void {
    this.diagnostics.push(this.source.diagnostic(path, message, onKey));
  }

  /** Schema issues, relative to `path`. */
  issues(path: ConfigPath, issues: readonly z.core.$ZodIssue[]): void {
    this.diagnostics.push(...issuesToDiagnostics(this.source, path, issues));
  }
}
