// Types of agent-runtime.mjs for the TypeScript tests (test/unit/agent-runtime.test.ts).
export interface AgentRuntime {
  env: Record<string, string>;
  nodeArgs: string[];
}
export function parseStartScript(script: string): AgentRuntime;
export function agentRuntime(): AgentRuntime;
