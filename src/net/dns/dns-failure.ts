import { abortFailure, CheckFailure } from '../../errors.js';
import type { FailureCode } from '../../errors.js';
import { localResourceFailure } from '../local-resource.js';
import { DnsParseError } from './dns-message.js';

/**
 * Where a query stands, which decides what a failure means: `connect` until the TCP connection is
 * up (tcp, tls, https), `tls` from then until the handshake is done (tls, https), `request` after
 * that and for the whole of a UDP exchange. A failure inside the handshake is the TLS's, whatever
 * form it takes (an alert, a reset, a close, a plain-text answer, a certificate error).
 */
export type DnsStage = 'connect' | 'tls' | 'request';

const FAILURE_BY_ERRNO: Record<string, FailureCode> = {
  ECONNREFUSED: 'DNS_CONNECT_FAILED',
  ECONNRESET: 'DNS_CONNECT_FAILED',
  EHOSTUNREACH: 'DNS_CONNECT_FAILED',
  ENETUNREACH: 'DNS_CONNECT_FAILED',
};

/** Why a transport failed, as a `CheckFailure` with a DNS_* code (or the agent's own shortage). */
export function asDnsFailure(err: unknown, where: string, stage: DnsStage, signal: AbortSignal): CheckFailure {
  if (err instanceof CheckFailure) return err;
  const error = err instanceof Error ? err : new Error(String(err));
  if (signal.aborted && (err === signal.reason || error.name === 'AbortError')) {
    return abortFailure(
      signal,
      stage,
      { code: 'DNS_TIMEOUT', message: `no answer from ${where} before the timeout` },
      `query to ${where} was cancelled`,
    );
  }
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const local = localResourceFailure(err, `query to ${where}`, stage);
  if (local) return local;
  if (stage === 'tls' || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT')) {
    return new CheckFailure('DNS_TLS_FAILED', `TLS handshake with ${where} failed: ${detail(error)}`, 'tls', {
      cause: err,
    });
  }
  if (err instanceof DnsParseError)
    return new CheckFailure('DNS_MALFORMED', `unreadable answer from ${where}: ${error.message}`, stage, {
      cause: err,
    });
  if (code.startsWith('HPE_')) {
    // Node's HTTP parser refused the DoH response (e.g. a header block over its 16 KiB limit).
    return new CheckFailure('DNS_MALFORMED', `unreadable HTTP response from ${where}: ${detail(error)}`, stage, {
      cause: err,
    });
  }
  return new CheckFailure(
    FAILURE_BY_ERRNO[code] ?? 'DNS_RESOLVE_FAILED',
    `query to ${where} failed: ${detail(error)}`,
    stage,
    {
      cause: err,
    },
  );
}

/** The error's message with its code, once (OpenSSL messages carry a trailing newline). */
function detail(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const message = err.message.trim();
  return code && !message.includes(code) ? `${message} (${code})` : message || (code ?? 'unknown error');
}
