import { CheckFailure } from '../errors.js';

/**
 * Why the local system would not open a socket: this agent's own limits, never the target's or the
 * path's fault, so they get their own code whatever the kind (a full descriptor table otherwise
 * shows up as every resolver and every host failing at once).
 */
const LOCAL_RESOURCE_ERRORS: Readonly<Record<string, string>> = {
  EMFILE: "this agent has no file descriptor left (its own limit, ulimit -n or the service's LimitNOFILE)",
  ENFILE: 'the host has no file descriptor left (fs.file-max)',
  ENOBUFS: 'the kernel has no socket buffer left',
  ENOMEM: 'the kernel has no memory left for a socket',
};

/**
 * LOCAL_RESOURCE_EXHAUSTED for a socket error that is the agent's own shortage (EMFILE, ENFILE,
 * ENOBUFS, ENOMEM), else undefined. `what` names the operation, e.g. `connect to 192.0.2.1:443`.
 */
export function localResourceFailure(err: unknown, what: string, phase: string): CheckFailure | undefined {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  const why = typeof code === 'string' && Object.hasOwn(LOCAL_RESOURCE_ERRORS, code) ? LOCAL_RESOURCE_ERRORS[code] : '';
  if (!why) return undefined;
  return new CheckFailure(
    'LOCAL_RESOURCE_EXHAUSTED',
    `${what} failed: ${String(code)}: ${why}; raise the fd limit or lower max_concurrent_runs`,
    phase,
    { cause: err },
  );
}
