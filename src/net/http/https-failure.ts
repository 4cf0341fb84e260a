import { CheckFailure } from '../../errors.js';
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
