import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = new URL('../../dist/bin/vantage.cjs', import.meta.url).pathname;

/** NDJSON (what `--json` prints) as records. */
export function jsonLines<T>(text: string): T[] {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to completion (under `setpriv` when args start with its options). */
export async function vantage(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const node = args.indexOf(process.execPath);
  const argv =
    node === -1
      ? [process.execPath, BIN, ...args]
      : ['setpriv', ...args.slice(0, node + 1), BIN, ...args.slice(node + 1)];
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
  child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
  // 'close', not 'exit': only then has all of stdout and stderr arrived.
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

export type LogLine = Record<string, unknown> & { msg?: string };

/** A running `vantage run` child, its JSON log lines, and ways to wait on them. */
export class AgentProcess {
  readonly logs: LogLine[] = [];
  private waiters: Array<() => void> = [];
  exitCode: number | null | undefined;

  private constructor(readonly child: ChildProcess) {
    let buffered = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffered += String(d);
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ msg: line });
        }
      }
      for (const w of this.waiters) w();
    });
    // 'close', not 'exit': a test that reads the logs after the exit must find the last lines.
    child.on('close', (code) => {
      this.exitCode = code;
      for (const w of this.waiters) w();
    });
  }

  static start(args: string[], env: NodeJS.ProcessEnv = {}, command: string[] = [process.execPath, BIN]): AgentProcess {
    const [exe = '', ...pre] = command;
    // Its own process group, so a signal reaches `npm start`'s child too.
    return new AgentProcess(
      spawn(exe, [...pre, ...args], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
        detached: true,
      }),
    );
  }

  /** Resolves with the first log line matching, failing after `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    return this.waitFor(() => this.logs.find(match), timeoutMs, 'log line');
  }

  async port(): Promise<number> {
    const started = await this.waitForLog((l) => l.msg === 'agent started');
    return (started.listen as { port: number }).port;
  }

  async scrape(accept?: string): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${await this.port()}/metrics`, accept ? { headers: { accept } } : {});
    return res.text();
  }

  /** Polls /metrics until `match` holds. */
  async waitForMetrics(match: (body: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const body = await this.scrape();
      if (match(body)) return body;
      if (Date.now() > deadline)
        throw new Error(
          `metrics never matched; last scrape:\n${body
            .split('\n')
            .filter((l) => !l.startsWith('#') && !l.startsWith('process_') && !l.startsWith('nodejs_'))
            .join('\n')}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  waitForExit(timeoutMs = 10_000): Promise<number | null> {
    return this.waitFor(
      () => (this.exitCode === undefined ? undefined : { code: this.exitCode }),
      timeoutMs,
      'exit',
    ).then((r) => r.code);
  }

  /** Signals the whole process group (npm and the agent under it). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exitCode !== undefined || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // Already gone.
    }
  }

  private waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = probe();
        if (found === undefined) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`timed out waiting for ${what}; logs:\n${this.logs.map((l) => JSON.stringify(l)).join('\n')}`),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      const waiter = (): void => void check();
      this.waiters.push(waiter);
      check();
    });
  }
}

/** A temporary directory with a config file in it; `remove` deletes it. */
export function tempConfig(text: string): { dir: string; file: string; write(text: string): void; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-test-'));
  const file = join(dir, 'vantage.yaml');
  writeFileSync(file, text);
  return {
    dir,
    file,
    write: (t) => writeFileSync(file, t),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
