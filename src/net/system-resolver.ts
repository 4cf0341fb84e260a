import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { abortFailure, CheckFailure } from '../errors.js';
import { canonicalIp } from './address.js';
import type { FailureCode } from '../errors.js';
import { localResourceFailure } from './local-resource.js';
import type { IpFamily, ResolvedAddress } from './address.js';
import type { HostResolver } from './net-deps.js';

const FAMILY: Record<IpFamily, 0 | 4 | 6> = { any: 0, ipv4: 4, ipv6: 6 };
/**
 * Warm-up lookups at once: twice the libuv pool's threads (bin/vantage.cts sizes it; libuv's
 * default is 4), so that every thread has run one (see `warm`).
 */
function warmLookups(): number {
  const threads = Number(process.env.UV_THREADPOOL_SIZE);
  return 2 * (Number.isInteger(threads) && threads > 0 ? Math.min(threads, 128) : 4);
}

/**
 * The system resolver (getaddrinfo via libuv): hosts file, nsswitch, the resolvers the host uses,
 * i.e. what applications on this host see. getaddrinfo cannot be cancelled, so an abort only stops
 * waiting; the libuv pool is enlarged before start-up (bin/vantage.cts) so a hanging lookup does
 * not queue the others.
 */
export class SystemResolver implements HostResolver {
  /**
   * Lookups in flight, shared by every check asking for the same name and family at once: a
   * lookup nobody waits for any more still holds a pool thread until glibc gives up, so asking
   * again would only queue more behind it.
   */
  private readonly inFlight = new Map<string, Promise<ResolvedAddress[]>>();
  private cares: Resolver | undefined;

  private warming: Promise<void> | undefined;

  /**
   * Lookups of localhost, untimed, started by the first call (`ready()`: after the agent's server
   * listens, so /metrics answers without waiting for them; 23-27 ms of start-up when they ran at
   * creation): a process's first getaddrinfo starts the libuv pool and loads the NSS modules
   * (20-40 ms here, where curl's whole lookup took 1-2 ms), which would otherwise be the first
   * run's dns phase. One through `resolve`, so its JS is warm too, and the rest at once, two per
   * pool thread: a pool thread's first lookup is slower than its later ones, and an idle pool hands
   * the next lookup to the thread that has waited longest, i.e. one never used (`probe dns NAME`
   * of a hosts-file name, a pool of 64 and 16 warm-ups: 1.0-1.5 ms, against 0.3 ms on a used
   * thread). IPv4 only: localhost is in the hosts file, so no query leaves the host.
   */
  warm(): Promise<void> {
    this.warming ??= Promise.all([
      this.resolve('localhost', 'ipv4', new AbortController().signal),
      ...Array.from({ length: warmLookups() - 1 }, () => lookup('localhost', { family: 4 })),
    ]).then(
      () => undefined,
      () => undefined,
    );
    return this.warming;
  }

  async resolve(host: string, family: IpFamily, signal: AbortSignal): Promise<ResolvedAddress[]> {
    const literal = isIP(host);
    if (literal !== 0) {
      if ((family === 'ipv4' && literal !== 4) || (family === 'ipv6' && literal !== 6)) {
        throw new CheckFailure('DNS_NO_ADDRESS', `${host} is not an ${family} address`, 'resolve');
      }
      return [{ address: canonicalIp(host) ?? host, family: literal as 4 | 6 }];
    }
    try {
      signal.throwIfAborted();
      return await raceAbort(this.shared(host, family), signal);
    } catch (err) {
      // NODATA: the name exists without addresses of this family, an answer, not a failure.
      if (isNotFound(err) && (await raceAbort(this.nameExists(host, family), signal).catch(() => false))) return [];
      throw toResolveFailure(host, err, signal);
    }
  }

  /**
   * Whether `host` exists after getaddrinfo found no address for `family`: getaddrinfo reports
   * NXDOMAIN and NODATA alike (EAI_NONAME). Asked first the way the lookup was (hosts file,
   * nsswitch): an address of the other family proves the name. Then the resolvers of
   * /etc/resolv.conf directly (c-ares), which tell NODATA (ENODATA) from NXDOMAIN (ENOTFOUND): a
   * name with no address at all (only MX, say) exists too.
   */
  private async nameExists(host: string, family: IpFamily): Promise<boolean> {
    if (family !== 'any') {
      const other = await this.shared(host, family === 'ipv4' ? 'ipv6' : 'ipv4').catch(() => []);
      if (other.length > 0) return true;
    }
    this.cares ??= new Resolver({ timeout: CARES_TIMEOUT_MS, tries: 1 });
    try {
      await this.cares.resolve(host, family === 'ipv6' ? 'AAAA' : 'A');
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENODATA';
    }
  }

  private shared(host: string, family: IpFamily): Promise<ResolvedAddress[]> {
    const key = `${family} ${host}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = lookup(host, { all: true, family: FAMILY[family], order: 'verbatim' })
        .then((found) => found.map((a): ResolvedAddress => ({ address: a.address, family: a.family === 6 ? 6 : 4 })))
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }
}

/** Per try of the c-ares second opinion (nameExists); the run's own deadline still applies. */
const CARES_TIMEOUT_MS = 2_000;

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOTFOUND';
}

/**
 * getaddrinfo's errors as Node names them: EAI_NONAME and EAI_NODATA both arrive as ENOTFOUND;
 * EAI_AGAIN is "no resolver gave a usable answer in time" (timeout or unreachable resolver);
 * EAI_FAIL is a resolver's hard error (e.g. SERVFAIL).
 */
const FAILURE_BY_GAI_ERROR: Record<string, FailureCode> = {
  ENOTFOUND: 'DNS_NAME_NOT_FOUND', // and no second opinion found the name (nameExists)
  EAI_AGAIN: 'DNS_TIMEOUT',
  EAI_FAIL: 'DNS_RESOLVE_FAILED',
};

function toResolveFailure(host: string, err: unknown, signal: AbortSignal): CheckFailure {
  if (err instanceof CheckFailure) return err;
  if (signal.aborted) {
    return abortFailure(
      signal,
      'resolve',
      { code: 'DNS_TIMEOUT', message: `resolving ${host} did not finish before the timeout` },
      `resolving ${host} was cancelled`,
    );
  }
  const local = localResourceFailure(err, `resolving ${host}`, 'resolve');
  if (local) return local;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const failure = FAILURE_BY_GAI_ERROR[code] ?? 'DNS_RESOLVE_FAILED';
  return new CheckFailure(failure, `resolving ${host} failed: ${code || String(err)}`, 'resolve', { cause: err });
}

/** Settles with `work`, or rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
