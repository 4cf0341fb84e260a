// A user's pattern must not stop the agent: `^(a+)+$` against 28 bytes held the event loop for
// seconds. With these flags V8 runs every regex on its backtracking engine and, once a run passes
// its backtrack limit (50,000), re-runs it on its linear-time engine, so a catastrophic pattern
// costs time in proportion to the input. They are process-wide and read when a regex runs.
//
// A CommonJS module of its own because two places set them: settings/user-regex.ts, which every
// user pattern passes through, and the CLI's entry (bin/vantage.cts), before it compiles the CLI:
// V8 refuses a code cache made under other flags (bin/code-cache.cts). No type annotation: the
// tests' transform (Vite) reads a .cts file as JavaScript.
export const REGEXP_ENGINE_FLAGS = Object.freeze([
  '--enable-experimental-regexp-engine',
  '--enable-experimental-regexp-engine-on-excessive-backtracks',
]);
