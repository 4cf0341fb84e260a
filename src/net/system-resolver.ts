import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { abortFailure, CheckFailure } from '../errors.js';
import { canonicalIp } from './address.js';
import type { FailureCode } from '../errors.js';
import { localResourceFailure } from './local-resource.js';
import type { IpFamily, ResolvedAddress } from './address.js';
import type { HostResolver } from './net-deps.js';

const FAMILY: Record<IpFamily, 0 | 4 | 6> = { any: 0, ipv4: 4, ipv6: 6 };

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
      throw toResolveFailure(host, err, signal);
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

/**
 * getaddrinfo's errors as Node names them: EAI_NONAME and EAI_NODATA both arrive as ENOTFOUND;
 * EAI_AGAIN is "no resolver gave a usable answer in time" (timeout or unreachable resolver);
 * EAI_FAIL is a resolver's hard error (e.g. SERVFAIL).
 */
const FAILURE_BY_GAI_ERROR: Record<string, FailureCode> = {
  ENOTFOUND: 'DNS_NAME_NOT_FOUND',
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
