import { onTestFinished } from 'vitest';
import { CheckFailure } from '../../src/errors.js';
import type { HostResolver, IpFamily, NetDeps, ResolvedAddress } from '../../src/net/net-deps.js';
import type { FakeClock } from './fake-clock.js';

/** The five ports of `NetDeps` (the address book is not a port: it is passed through when given). */
export type PortName = 'resolver' | 'tcp' | 'icmp' | 'dns' | 'https';

/** The methods a check may call on each port; optional ones (icmp's stats/open/close) stay absent. */
const PORT_METHODS = {
  resolver: ['resolve'],
  tcp: ['connect'],
  icmp: ['echo'],
  dns: ['query'],
  https: ['exchange'],
} as const satisfies { [P in PortName]: ReadonlyArray<keyof NetDeps[P]> };

/** What a check got for touching a port the test did not give it. */
export class PortNotGiven extends Error {
  override readonly name = 'PortNotGiven';
  constructor(
    readonly port: PortName,
    readonly method: string,
  ) {
    super(`fakeNet: the check called ${port}.${method}(), but this test gave it no \`${port}\` port`);
  }
}

/**
 * A `NetDeps` from the ports a test gives; every other port rejects each call with a
 * `PortNotGiven` naming it. Checks turn throws into records (INTERNAL) and some swallow them (a
 * hijack reference that fails), so a stray call also fails the running test when it finishes:
 * a test passes only if the check used no port but those it was given. `failTest: false` leaves
 * it at the rejection, for a test that wants the stray call.
 */
export function fakeNet(ports: Partial<NetDeps> = {}, options: { failTest?: boolean } = {}): NetDeps {
  const strays: PortNotGiven[] = [];
  let watching = options.failTest === false;
  const watch = (): void => {
    if (watching) return;
    try {
      onTestFinished(() => {
        // The next test that calls a stray port is watched anew (a NetDeps built at module level).
        watching = false;
        const [first] = strays.splice(0);
        if (first) throw first;
      });
      watching = true;
    } catch {
      // Built outside a test (at module level): watched from the first stray call made in one.
    }
  };
  watch();
  const missing = (port: PortName): Record<string, () => Promise<never>> =>
    Object.fromEntries(
      PORT_METHODS[port].map((method) => [
        method,
        () => {
          const err = new PortNotGiven(port, method);
          strays.push(err);
          watch();
          return Promise.reject(err);
        },
      ]),
    );
  const port = <P extends PortName>(name: P): NetDeps[P] => ports[name] ?? (missing(name) as unknown as NetDeps[P]);
  return {
    resolver: port('resolver'),
    tcp: port('tcp'),
    icmp: port('icmp'),
    dns: port('dns'),
    https: port('https'),
    ...(ports.addressBook ? { addressBook: ports.addressBook } : {}),
  };
}

/** One answer of a `tableResolver`: addresses (filtered by the family asked), or a failure to throw. */
export type ResolverAnswer = readonly ResolvedAddress[] | CheckFailure;

export interface TableResolver extends HostResolver {
  /** Every call, in order. */
  readonly calls: Array<{ host: string; family: IpFamily }>;
}

/**
 * A resolver answering from a table by host name; a host not in the table is
 * `DNS_NAME_NOT_FOUND`. With a clock, each lookup takes `delayMs` of fake time.
 */
export function tableResolver(
  table: Record<string, ResolverAnswer>,
  timing?: { clock: FakeClock; delayMs: number },
): TableResolver {
  const calls: Array<{ host: string; family: IpFamily }> = [];
  return {
    calls,
    async resolve(host, family) {
      calls.push({ host, family });
      // Time passes after the call returned, as with a real lookup (the caller stamps its start first).
      await Promise.resolve();
      if (timing) await timing.clock.advance(timing.delayMs);
      const answer = table[host] ?? new CheckFailure('DNS_NAME_NOT_FOUND', `${host}: no such name`, 'resolve');
      if (answer instanceof CheckFailure) throw answer;
      return answer.filter((a) => family === 'any' || a.family === (family === 'ipv4' ? 4 : 6));
    },
  };
}
