// @ts-check
// How the agent's process is started where it is deployed: the environment and Node flags that
// `npm start` puts before the entry point (package.json's start script, the one place they are
// written; the Dockerfile and the systemd unit carry the same, and a test holds them to it). A
// benchmark of the agent as deployed starts it the same way.
import { readFileSync } from 'node:fs';

/** @import { AgentRuntime } from './agent-runtime.mjs' */

/**
 * The environment variables and Node flags of a start script of the form
 * `NAME=value ... node --flag ... <entry> <args>`.
 * @param {string} script
 * @returns {AgentRuntime}
 */
export function parseStartScript(script) {
  const words = script.trim().split(/\s+/);
  /** @type {Record<string, string>} */
  const env = {};
  let i = 0;
  for (; i < words.length; i++) {
    const assignment = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(words[i] ?? '');
    if (!assignment) break;
    env[assignment[1] ?? ''] = assignment[2] ?? '';
  }
  if (words[i] !== 'node') throw new Error(`start script: expected "node" after the environment, got: ${script}`);
  const nodeArgs = [];
  for (i++; i < words.length && (words[i] ?? '').startsWith('-'); i++) nodeArgs.push(words[i] ?? '');
  return { env, nodeArgs };
}

/**
 * The runtime of package.json's start script.
 * @returns {AgentRuntime}
 */
export function agentRuntime() {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return parseStartScript(String(pkg.scripts?.start ?? ''));
}
