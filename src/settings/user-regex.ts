import { setFlagsFromString } from 'node:v8';
import * as z from 'zod';
import { REGEXP_ENGINE_FLAGS } from './regexp-engine-flags.cjs';

// Every user pattern passes through this module's schema before it runs (see the flags' module).
for (const flag of REGEXP_ENGINE_FLAGS) setFlagsFromString(flag);

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
