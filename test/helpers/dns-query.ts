import { systemClock } from '../../src/clock.js';
import { CheckFailure, RunDeadlineExceeded } from '../../src/errors.js';
import { DnsClient } from '../../src/net/dns/dns-client.js';
import type { DnsExchange, DnsQueryRequest } from '../../src/net/dns/dns-client.js';

const client = new DnsClient(systemClock);

/**
 * One query through the real client (or `through`, e.g. one on Node's dgram socket), ended by its
 * deadline as a scheduled run would be.
 */
export async function queryWithin(
  request: Omit<DnsQueryRequest, 'signal'>,
  timeoutMs: number,
  through: DnsClient = client,
): Promise<DnsExchange> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new RunDeadlineExceeded(timeoutMs)), timeoutMs);
  try {
    return await through.query({ ...request, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

/** The CheckFailure a query failed with; throws when it succeeded or failed otherwise. */
export async function queryFailure(promise: Promise<unknown>): Promise<CheckFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CheckFailure) return err;
    throw err;
  }
  throw new Error('the query succeeded');
}
