// agent-runtime.mjs's types, for the TypeScript tests (test/unit/agent-runtime.test.ts) and for the
// module itself (its JSDoc imports AgentRuntime from here: stated once).
export interface AgentRuntime {
  env: Record<string, string>;
  nodeArgs: string[];
}
export function parseStartScript(script: string): AgentRuntime;
export function agentRuntime(): AgentRuntime;
