import { afterAll, afterEach, beforeAll } from 'vitest';
import { AgentProcess, tempConfig } from './agent-process.js';
import type { Listener } from './tcp-servers.js';

export interface AgentFixture {
  /** The listener's port (open from before the file's first test to after its last). */
  port(): number;
  /** A temporary file with `text`, removed after the test. */
  file(text: string): { file: string };
  /** `vantage run` on a config of `text`, listening on a free loopback port; killed after the test. */
  start(text: string, args?: string[], command?: string[]): AgentProcess;
}

/**
 * The agents and files a test file starts, killed and removed after each test, and a listener for
 * their checks to use. Call it at the file's top level: it registers the hooks.
 */
export function agentFixture(open: () => Promise<Listener>): AgentFixture {
  const agents: AgentProcess[] = [];
  const files: Array<{ remove(): void }> = [];
  let listener: Listener | undefined;
  beforeAll(async () => {
    listener = await open();
  });
  afterEach(() => {
    for (const a of agents.splice(0)) a.kill();
    for (const f of files.splice(0)) f.remove();
  });
  afterAll(async () => {
    await listener?.close();
  });
  const file = (text: string): { file: string } => {
    const made = tempConfig(text);
    files.push(made);
    return made;
  };
  return {
    port() {
      if (!listener) throw new Error('agentFixture: the listener opens in beforeAll');
      return listener.port;
    },
    file,
    start(text, args = [], command) {
      const agent = AgentProcess.start(['run', '-c', file(text).file, '--listen', '127.0.0.1:0', ...args], {}, command);
      agents.push(agent);
      return agent;
    },
  };
}
