import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openListener } from './tcp-servers.js';

/** A real Prometheus on a free loopback port, its data under `dataDir`; the caller kills `process`. */
export async function startPrometheus(
  config: string,
  dataDir: string,
): Promise<{ url: string; process: ChildProcess }> {
  const listener = await openListener();
  const port = listener.port;
  await listener.close();
  const child = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: 'ignore' },
  );
  child.on('error', (err) => console.error(`prometheus did not start (${err.message}): .ci/run installs it`));
  return { url: `http://127.0.0.1:${port}`, process: child };
}
