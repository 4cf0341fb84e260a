import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeCerts } from './certs.js';
import { applyFaults, SLOW_HOP_MARK } from './faults.js';
import { labTruth, resolveSpec } from './plan.js';
import type { LabSpec, LabTruth } from './plan.js';
import { killPid, missingServiceBuild, SERVICE_FILES, startService } from './services.js';
import { run } from './shell.js';
import type { RunResult } from './shell.js';
import { allNamespaces, buildTopology, deleteNamespaces, listLabNamespaces, ownerPid, prefixFor } from './topology.js';

export type { LabSpec, LabTruth } from './plan.js';

const STATE_DIR = '/run/vantage-lab';

/** What `down` needs to remove a lab, also from another process (`npm run lab -- down`). */
interface LabState {
  prefix: string;
  namespaces: string[];
  pids: number[];
  dirs: string[];
  /** Made by `npm run lab -- up`: its owner exits on purpose, so leftover clean-up must spare it. */
  persistent: boolean;
  truth: LabTruth;
}

/** Whether this machine can run the lab; the reason when it cannot. */
export async function labSupport(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (process.getuid?.() !== 0)
    return { ok: false, reason: 'the network lab needs root (network namespaces, nftables)' };
  for (const tool of [
    ['ip', '-V'],
    ['nft', '--version'],
    ['python3', '--version'],
    ['openssl', 'version'],
  ]) {
    const found = await run(tool).catch(() => undefined);
    if (!found || found.code !== 0)
      return { ok: false, reason: `the network lab needs ${tool[0]} (see .ci/run for the packages)` };
  }
  const missing = missingServiceBuild();
  if (missing) return { ok: false, reason: missing };
  return { ok: true };
}

/** A running lab: ground truth, a way to run commands inside it, and teardown. */
export class Lab {
  private constructor(private readonly state: LabState) {}

  get truth(): LabTruth {
    return this.state.truth;
  }

  /**
   * Builds the whole lab. Leftovers of earlier runs whose owner died are removed first; on any
   * failure what was built is torn down before the error is thrown.
   */
  static async up(spec: LabSpec = {}, opts: { persistent?: boolean } = {}): Promise<Lab> {
    await removeLeftovers();
    const prefix = prefixFor(process.pid);
    const resolved = resolveSpec(spec);
    const draft = labTruth(prefix, resolved, '');
    const state: LabState = {
      prefix,
      namespaces: allNamespaces(draft),
      pids: [],
      dirs: [],
      persistent: opts.persistent ?? false,
      truth: draft,
    };
    const lab = new Lab(state);
    try {
      await lab.saveState();
      await buildTopology(draft);
      await applyFaults(draft);
      const certs = await makeCerts({
        name: draft.https.name,
        wrongName: draft.https.wrongName,
        ips: [draft.https.v4, draft.https.v6],
        dnsName: draft.dns.tlsName,
        dnsIps: [draft.dns.auth.v4, draft.dns.auth.v6],
      });
      state.dirs.push(certs.dir);
      state.truth = labTruth(prefix, resolved, certs.caFile);
      const truthFile = join(certs.dir, 'truth.json');
      const certsFile = join(certs.dir, 'certs.json');
      await writeFile(truthFile, JSON.stringify(state.truth));
      await writeFile(certsFile, JSON.stringify(certs));
      const { hosts, echo, routers } = state.truth.namespaces;
      const slow = state.truth.slowHop;
      const opts = { detached: state.persistent, onSpawn: (pid: number) => state.pids.push(pid) };
      await Promise.all([
        startService(hosts, [process.execPath, SERVICE_FILES.dns, 'auth', truthFile, certsFile], opts),
        startService(hosts, [process.execPath, SERVICE_FILES.dns, 'hijack', truthFile], opts),
        startService(hosts, [process.execPath, SERVICE_FILES.https, truthFile, certsFile], opts),
        startService(
          echo,
          ['python3', SERVICE_FILES.icmp, String(resolved.echoDelayMs), String(resolved.echoDropRate)],
          opts,
        ),
        // Its packet socket listens on the slow router's upstream link, l<hop - 1>.
        ...(slow.hop > 0
          ? [
              startService(
                routers[slow.hop - 1]!,
                [
                  'python3',
                  SERVICE_FILES.slowTimeExceeded,
                  String(slow.delayMs),
                  `l${slow.hop - 1}`,
                  String(SLOW_HOP_MARK),
                ],
                opts,
              ),
            ]
          : []),
      ]);
      await lab.saveState();
      return lab;
    } catch (err) {
      await lab.down();
      throw err;
    }
  }

  /** Runs a command inside one of the lab's namespaces. */
  exec(ns: string, argv: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', ns, ...argv], opts);
  }

  /** Removes everything this lab made. Safe to call twice. */
  async down(): Promise<void> {
    await teardown(this.state);
  }

  private async saveState(): Promise<void> {
    await mkdir(STATE_DIR, { recursive: true });
    await writeFile(join(STATE_DIR, `${this.state.prefix}.json`), JSON.stringify(this.state));
  }
}

async function teardown(state: Pick<LabState, 'prefix' | 'namespaces' | 'pids' | 'dirs'>): Promise<void> {
  for (const pid of state.pids) killPid(pid);
  await deleteNamespaces(state.namespaces);
  await Promise.all(state.dirs.map((d) => rm(d, { recursive: true, force: true })));
  await rm(join(STATE_DIR, `${state.prefix}.json`), { force: true });
}

async function readStates(): Promise<LabState[]> {
  const files = await readdir(STATE_DIR).catch(() => [] as string[]);
  const states = await Promise.all(
    files
      .filter((f) => f.endsWith('.json'))
      .map(async (f) => JSON.parse(await readFile(join(STATE_DIR, f), 'utf8')) as LabState),
  );
  return states;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Removes labs whose owner process is gone (a crashed or killed test run), sparing persistent ones. */
export async function removeLeftovers(): Promise<string[]> {
  return removeLabs((prefix, state) => !(state?.persistent ?? false) && !alive(ownerPid(prefix)));
}

/** Removes every lab on the machine (`npm run lab -- down`). */
export function removeAllLabs(): Promise<string[]> {
  return removeLabs(() => true);
}

async function removeLabs(shouldRemove: (prefix: string, state: LabState | undefined) => boolean): Promise<string[]> {
  const states = new Map((await readStates()).map((s) => [s.prefix, s]));
  const present = await listLabNamespaces();
  const prefixes = new Set([...states.keys(), ...present.keys()]);
  const removed: string[] = [];
  for (const prefix of prefixes) {
    const state = states.get(prefix);
    if (!shouldRemove(prefix, state)) continue;
    await teardown({
      prefix,
      namespaces: [...new Set([...(state?.namespaces ?? []), ...(present.get(prefix) ?? [])])].filter((ns) =>
        present.get(prefix)?.includes(ns),
      ),
      pids: state?.pids ?? [],
      dirs: state?.dirs ?? [],
    });
    removed.push(prefix);
  }
  return removed;
}

/** Labs on the machine, for `npm run lab -- status`. */
export async function labStatus(): Promise<
  Array<{ prefix: string; namespaces: string[]; persistent: boolean; ownerAlive: boolean }>
> {
  const states = new Map((await readStates()).map((s) => [s.prefix, s]));
  const present = await listLabNamespaces();
  return [...present].map(([prefix, namespaces]) => ({
    prefix,
    namespaces,
    persistent: states.get(prefix)?.persistent ?? false,
    ownerAlive: alive(ownerPid(prefix)),
  }));
}

/** The saved truth of a persistent lab, for tools that explore it by hand. */
export async function persistentTruth(): Promise<LabTruth | undefined> {
  return (await readStates()).find((s) => s.persistent)?.truth;
}
