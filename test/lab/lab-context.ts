import { inject } from 'vitest';
import type { LabTruth } from './plan.js';
import { run } from './shell.js';
import type { RunResult } from './shell.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The running lab's ground truth, or why there is none (see global-setup.ts). */
    lab: { truth: LabTruth } | { unavailable: string };
  }
}

/** The lab for this test file: its truth and `exec`, or undefined (tests then skip). */
export function labContext(): { truth: LabTruth; exec: (ns: string, argv: readonly string[], timeoutMs?: number) => Promise<RunResult> } | undefined {
  const provided = inject('lab');
  if (!('truth' in provided)) return undefined;
  return {
    truth: provided.truth,
    exec: (ns, argv, timeoutMs) => run(['ip', 'netns', 'exec', ns, ...argv], timeoutMs === undefined ? {} : { timeoutMs }),
  };
}
