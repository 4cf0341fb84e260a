import { afterAll, afterEach, beforeAll } from 'vitest';
import { AgentProcess, tempConfig } from './agent-process.js';
import type { Listener } from './tcp-servers.js';

type TempFile = ReturnType<typeof tempConfig>;

export interface AgentFixture {
  /** The listener's port (open from before the file's first test to after its last). */
  port(): number;
  /** A temporary file with `text` (in a directory of its own), removed after the test. */
  file(text: string): TempFile;
  /** `vantage run -c FILE`, listening on a free loopback port; killed after the test. */
  run(file: string, args?: string[], command?: string[]): AgentProcess;
  /** `run` on a new file of `text`. */
  start(text: string, args?: string[], command?: string[]): AgentProcess;
}

/**
 * The agents and files a test file starts, killed and removed after each test, and a listener for
 * their checks to use. Call it at the file's top level: it registers the hooks.
 */
export function agentFixture(open: () => Promise<Listener>): AgentFixture {
  const agents: AgentProcess[] = [];
  const files: TempFile[] = [];
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
  const file = (text: string): TempFile => {
    const made = tempConfig(text);
    files.push(made);
    return made;
  };
  const run = (path: string, args: string[] = [], command?: string[]): AgentProcess => {
    const agent = AgentProcess.start(['run', '-c', path, '--listen', '127.0.0.1:0', ...args], {}, command);
    agents.push(agent);
    return agent;
  };
  return {
    port() {
      if (!listener) throw new Error('agentFixture: the listener opens in beforeAll');
      return listener.port;
    },
    file,
    run,
    start: (text, args, command) => run(file(text).file, args, command),
  };
}
