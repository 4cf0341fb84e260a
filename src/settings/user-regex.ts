import { setFlagsFromString } from 'node:v8';
import { z } from 'zod';

// A user's pattern must not stop the agent: `^(a+)+$` against 28 bytes held the event loop for
// seconds. V8 runs every regex on its backtracking engine and, once a run passes its backtrack
// limit (50,000), re-runs it on its linear-time engine, so a catastrophic pattern costs time in
// proportion to the input. The flags are process-wide and read when a regex runs; they are set
// here because every user pattern passes through this module's schema before it runs.
setFlagsFromString('--enable-experimental-regexp-engine');
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

/**
 * Why a pattern cannot be used, or undefined. Backreferences and lookaround have no linear-time
 * match (V8's linear engine refuses them), so such a pattern could still backtrack without bound:
 * it is refused rather than run.
 */
export function userRegexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
  } catch (err) {
    return `is not a valid regular expression (${err instanceof Error ? err.message : String(err)})`;
  }
  try {
    new RegExp(pattern, 'l');
  } catch {
    return (
      'uses a backreference or lookaround, which cannot be matched in bounded time ' +
      '(a crafted answer could hold the agent for seconds): rewrite the pattern without them'
    );
  }
  return undefined;
}

/** A regular expression given as a string, refused at load time when it does not compile or cannot be bounded. */
export const regexSchema = (setting: string) =>
  z.string().superRefine((pattern, ctx) => {
    const problem = userRegexProblem(pattern);
    if (problem) ctx.addIssue({ code: 'custom', message: `${setting} ${problem}` });
  });
