import { inject } from 'vitest';
import { BIN } from '../helpers/agent-process.js';
import type { LabTruth } from './plan.js';
import { run } from './shell.js';
import type { RunResult } from './shell.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The running lab's ground truth, or why there is none (see global-setup.ts). */
    lab: { truth: LabTruth } | { unavailable: string };
  }
}

/** Hop addresses (`*` for silence) from `traceroute -n -q 1` output. */
export function classicHops(out: string): string[] {
  return out
    .split('\n')
    .slice(1)
    .filter((l) => /^\s*\d+\s/.test(l))
    .map((l) => l.trim().split(/\s+/)[1] ?? '');
}

export interface LabContext {
  truth: LabTruth;
  exec: (ns: string, argv: readonly string[], timeoutMs?: number) => Promise<RunResult>;
  /** The built `vantage` CLI in the agent namespace. */
  vantage: (args: readonly string[], timeoutMs?: number) => Promise<RunResult>;
}

/** The lab for this test file: its truth, `exec` and `vantage`, or undefined (tests then skip). */
export function labContext(): LabContext | undefined {
  const provided = inject('lab');
  if (!('truth' in provided)) return undefined;
  const exec: LabContext['exec'] = (ns, argv, timeoutMs) =>
    run(['ip', 'netns', 'exec', ns, ...argv], timeoutMs === undefined ? {} : { timeoutMs });
  return {
    truth: provided.truth,
    exec,
    vantage: (args, timeoutMs = 60_000) =>
      exec(provided.truth.namespaces.agent, [process.execPath, BIN, ...args], timeoutMs),
  };
}
