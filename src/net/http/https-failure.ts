import { abortFailure, CheckFailure } from '../../errors.js';
import { hostPort } from '../address.js';
import { requestPort } from './https-exchange.js';
import type { HttpsRequest } from './https-exchange.js';
import type { TlsFacts } from './tls-facts.js';

/** What the exchange had reached when it failed: phases so far, TLS facts if any. */
export class HttpsFailure extends CheckFailure {
  constructor(
    failure: CheckFailure,
    readonly phasesMs: Record<string, number>,
    readonly tls: TlsFacts | null,
  ) {
    super(failure.code, failure.message, failure.phase, { cause: failure.cause });
  }
}

/**
 * What an exchange reports when its run's signal stops it in `phase`: the deadline's code
 * (TLS_HANDSHAKE in the handshake, else HTTP_TIMEOUT) or ABORTED for a cancelled run. One rule for
 * the in-process client and for the worker's client (a reply that reached its run too late).
 */
export function stoppedFailure(req: HttpsRequest, phase: string): CheckFailure {
  const secure = req.url.protocol === 'https:';
  const where = hostPort(req.ip, requestPort(req.url));
  return abortFailure(
    req.signal,
    phase,
    { code: secure && phase === 'tls' ? 'TLS_HANDSHAKE' : 'HTTP_TIMEOUT', message: timeoutMessage(phase, where) },
    `request to ${req.url.href} was cancelled`,
  );
}

function timeoutMessage(phase: string, where: string): string {
  if (phase === 'firstByte') return `no response from ${where} before the timeout`;
  if (phase === 'headers') return `the response headers from ${where} were not complete before the timeout`;
  if (phase === 'transfer') return `the body from ${where} was not complete before the timeout`;
  return `no ${phase} from ${where} before the timeout`;
}
