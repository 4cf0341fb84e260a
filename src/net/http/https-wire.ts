import { CheckFailure, RunCancelled, RunDeadlineExceeded } from '../../errors.js';
import type { FailureCode } from '../../errors.js';
import { HttpsFailure } from './https-failure.js';
import type { HttpsExchange, HttpsRequest } from './https-exchange.js';
import type { TlsFacts } from './tls-facts.js';

// What crosses between the agent's thread and the HTTPS worker (https-worker.ts): a URL, an
// AbortSignal, a Buffer and a CheckFailure do not survive a structured clone as themselves, so each
// goes as plain data and is made again on the other side.

/** A request as the worker receives it: the URL as text, no signal (cancels come as messages). */
export type WireRequest = Omit<HttpsRequest, 'url' | 'signal'> & { url: string };

/** An exchange as the worker sends it back: the body as bytes (a Buffer arrives as a Uint8Array). */
export type WireExchange = Omit<HttpsExchange, 'body'> & { body: Uint8Array };

/** A failed exchange: the CheckFailure's fields and how far the exchange got; `code` undefined for a bug. */
export interface WireFailure {
  code: FailureCode | undefined;
  message: string;
  phase: string;
  phasesMs: Record<string, number>;
  tls: TlsFacts | null;
}

/** Why a run's signal fired, so the worker aborts with the same reason (a deadline is not a cancellation). */
export type WireAbort = { deadlineMs: number } | { cancelled: string };

export type ToWorker =
  { op: 'exchange'; id: number; request: WireRequest } | { op: 'cancel'; id: number; why: WireAbort };

export type FromWorker =
  | { op: 'ready' }
  | { op: 'exchanged'; id: number; exchange: WireExchange }
  | { op: 'failed'; id: number; failure: WireFailure };

export function requestToWire({ url, signal: _signal, ...rest }: HttpsRequest): WireRequest {
  return { ...rest, url: url.href };
}

export function requestFromWire(wire: WireRequest, signal: AbortSignal): HttpsRequest {
  return { ...wire, url: new URL(wire.url), signal };
}

export function exchangeFromWire(wire: WireExchange): HttpsExchange {
  return { ...wire, body: Buffer.from(wire.body.buffer, wire.body.byteOffset, wire.body.byteLength) };
}

export function failureToWire(err: unknown): WireFailure {
  if (err instanceof HttpsFailure)
    return { code: err.code, message: err.message, phase: err.phase, phasesMs: err.phasesMs, tls: err.tls };
  if (err instanceof CheckFailure)
    return { code: err.code, message: err.message, phase: err.phase, phasesMs: {}, tls: null };
  return {
    code: undefined,
    message: err instanceof Error ? err.message : String(err),
    phase: '',
    phasesMs: {},
    tls: null,
  };
}

/** The failure as the in-process client would have thrown it: an HttpsFailure, or an Error for a bug. */
export function failureFromWire(wire: WireFailure): Error {
  if (wire.code === undefined) return new Error(`the HTTPS worker: ${wire.message}`);
  return new HttpsFailure(new CheckFailure(wire.code, wire.message, wire.phase), wire.phasesMs, wire.tls);
}

export function abortToWire(signal: AbortSignal): WireAbort {
  const reason: unknown = signal.reason;
  if (reason instanceof RunDeadlineExceeded) return { deadlineMs: reason.timeoutMs };
  return { cancelled: reason instanceof Error ? reason.message : 'cancelled' };
}

export function abortFromWire(why: WireAbort): Error {
  return 'deadlineMs' in why ? new RunDeadlineExceeded(why.deadlineMs) : new RunCancelled(why.cancelled);
}
