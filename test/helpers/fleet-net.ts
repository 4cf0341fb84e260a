import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { run } from '../lab/shell.js';
import type { RunResult } from '../lab/shell.js';

/**
 * A small network of namespaces for the fleet tests: one "central" namespace (the central
 * store) and N agent namespaces, each joined to the central one by its own veth pair (a /30 in
 * 198.19.200.0/24). Each agent namespace drops every inbound connection it did not open (nft,
 * as carrier NAT does): the central side cannot reach the agents, the agents can reach it.
 * Names carry the owner's pid (`vfltest<pid>-`); leftovers of dead owners are removed first.
 */

const BASE = 'vfltest';
const OWNER_RE = new RegExp(`^${BASE}(\\d+)-`);

export interface FleetNet {
  central: string;
  agents: Array<{ ns: string; address: string; centralAddress: string }>;
  /** Runs a command inside a namespace. */
  exec(ns: string, argv: readonly string[], timeoutMs?: number): Promise<RunResult>;
  /** GETs a URL from inside a namespace with curl; status 0 means curl could not connect. */
  get(ns: string, url: string, timeoutS?: number): Promise<{ ok: boolean; status: number; body: string }>;
  /** Starts a long-running process inside a namespace, its own process group, stderr kept. */
  spawn(ns: string, argv: readonly string[], name: string): Daemon;
  /** Drops every packet arriving in the central namespace from outside (the store unreachable). */
  blackhole(on: boolean): Promise<void>;
  down(): Promise<void>;
}

export interface Daemon {
  child: ChildProcess;
  name: string;
  /** The last 20 kB of stdout+stderr. */
  log(): string;
  kill(signal?: NodeJS.Signals): void;
  exited(): Promise<void>;
}

async function must(argv: readonly string[], input?: string): Promise<string> {
  const r = await run(argv, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function deleteNamespaces(names: readonly string[]): Promise<void> {
  for (const n of names) {
    const pids = (await run(['ip', 'netns', 'pids', n])).stdout.split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
    await run(['ip', 'netns', 'delete', n]);
  }
}

async function removeLeftovers(): Promise<void> {
  const names = (await must(['ip', 'netns', 'list'])).split('\n').map((l) => l.split(' ')[0] ?? '');
  const dead = names.filter((n) => {
    const m = OWNER_RE.exec(n);
    return m !== null && !alive(Number(m[1]));
  });
  await deleteNamespaces(dead);
}

export async function fleetNet(agentCount: number): Promise<FleetNet> {
  await removeLeftovers();
  const prefix = `${BASE}${process.pid}-`;
  const central = `${prefix}central`;
  const agents = Array.from({ length: agentCount }, (_, i) => ({
    ns: `${prefix}a${i + 1}`,
    address: `198.19.200.${4 * i + 2}`,
    centralAddress: `198.19.200.${4 * i + 1}`,
  }));
  const daemons: Daemon[] = [];
  const all = [central, ...agents.map((a) => a.ns)];
  const exec: FleetNet['exec'] = (ns, argv, timeoutMs) =>
    run(['ip', 'netns', 'exec', ns, ...argv], timeoutMs === undefined ? {} : { timeoutMs });

  const down = async (): Promise<void> => {
    for (const d of daemons) d.kill('SIGKILL');
    await deleteNamespaces(all);
  };
  try {
    for (const ns of all) {
      await must(['ip', 'netns', 'add', ns]);
      await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    for (const [i, a] of agents.entries()) {
      await must([
        'ip',
        '-n',
        central,
        'link',
        'add',
        `to-a${i + 1}`,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        a.ns,
      ]);
      await must(['ip', '-n', central, 'addr', 'add', `${a.centralAddress}/30`, 'dev', `to-a${i + 1}`]);
      await must(['ip', '-n', central, 'link', 'set', `to-a${i + 1}`, 'up']);
      await must(['ip', '-n', a.ns, 'addr', 'add', `${a.address}/30`, 'dev', 'eth0']);
      await must(['ip', '-n', a.ns, 'link', 'set', 'eth0', 'up']);
      await must(['ip', '-n', a.ns, 'route', 'add', 'default', 'via', a.centralAddress]);
      // Behind NAT: nothing from outside opens a connection to the vantage point.
      await must(
        ['ip', 'netns', 'exec', a.ns, 'nft', '-f', '-'],
        `table inet nat_emulation {
  chain input {
    type filter hook input priority 0; policy drop;
    iif lo accept
    ct state established,related accept
  }
}
`,
      );
    }
  } catch (err) {
    await down();
    throw err;
  }

  return {
    central,
    agents,
    exec,
    async get(ns, url, timeoutS = 3) {
      const r = await exec(
        ns,
        ['curl', '-sS', '--max-time', String(timeoutS), '-o', '-', '-w', '\n%{http_code}', url],
        (timeoutS + 2) * 1000,
      );
      const nl = r.stdout.lastIndexOf('\n');
      const status = Number(r.stdout.slice(nl + 1)) || 0;
      return { ok: r.code === 0 && status >= 200 && status < 300, status, body: r.stdout.slice(0, Math.max(nl, 0)) };
    },
    spawn(ns, argv, name) {
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let log = '';
      const keep = (d: Buffer): void => void (log = (log + String(d)).slice(-20_000));
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      child.on('error', (err) => (log += `\n${name} did not start: ${err.message}`));
      const closed = new Promise<void>((r) => child.on('close', () => r()));
      const d: Daemon = {
        child,
        name,
        log: () => log,
        kill(signal = 'SIGKILL') {
          if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
          try {
            process.kill(-child.pid, signal);
          } catch {
            // gone
          }
        },
        exited: () => closed,
      };
      daemons.push(d);
      return d;
    },
    async blackhole(on) {
      if (on)
        await must(
          ['ip', 'netns', 'exec', central, 'nft', '-f', '-'],
          `table inet outage {
  chain input {
    type filter hook input priority -10; policy accept;
    iif != lo drop
  }
}
`,
        );
      else await must(['ip', 'netns', 'exec', central, 'nft', 'delete', 'table', 'inet', 'outage']);
    },
    down,
  };
}
