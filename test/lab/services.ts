import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root, found from this file whether it runs from test/lab or build-lab. */
export const ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();

/** Compiled service scripts (`npm run build:lab`), and the Python services from the source tree. */
export const SERVICE_FILES = {
  dns: join(ROOT, 'build-lab/services/dns-server.js'),
  https: join(ROOT, 'build-lab/services/https-server.js'),
  icmp: join(ROOT, 'test/lab/services/icmp-responder.py'),
  slowTimeExceeded: join(ROOT, 'test/lab/services/slow-time-exceeded.py'),
};

export function missingServiceBuild(): string | undefined {
  const missing = Object.values(SERVICE_FILES).filter((f) => !existsSync(f));
  return missing.length ? `lab services not built (${missing.join(', ')}): run npm run build:lab` : undefined;
}

/**
 * Starts a service inside a namespace and resolves once it prints its ready line. `detached`
 * services outlive this process (the `npm run lab -- up` case); their pids go in the state file.
 */
export async function startService(
  ns: string,
  argv: readonly string[],
  opts: { detached?: boolean; timeoutMs?: number; onSpawn?: (pid: number) => void } = {},
): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
  });
  // Recorded before it is ready, so a failed start-up still kills every service it launched.
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += String(d)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`${argv.join(' ')} in ${ns} not ready: ${stderr.trim()}`)),
      opts.timeoutMs ?? 10_000,
    );
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.once('exit', (code) => fail(new Error(`${argv.join(' ')} in ${ns} exited (${code}): ${stderr.trim()}`)));
    child.stdout?.on('data', (d: Buffer) => {
      if (String(d).includes('"ready":true')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve();
      }
    });
  });
  if (opts.detached) {
    child.stdout?.destroy();
    child.stderr?.destroy();
    child.unref();
  }
  return child;
}

export function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
