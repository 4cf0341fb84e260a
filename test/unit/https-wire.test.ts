import { describe, expect, it } from 'vitest';
import { abortedByDeadline, CheckFailure, RunCancelled, RunDeadlineExceeded } from '../../src/errors.js';
import { HttpsFailure } from '../../src/net/http/https-failure.js';
import type { HttpsRequest } from '../../src/net/http/https-exchange.js';
import {
  abortFromWire,
  abortToWire,
  exchangeFromWire,
  failureFromWire,
  failureToWire,
  requestFromWire,
  requestToWire,
} from '../../src/net/http/https-wire.js';
import type { TlsFacts } from '../../src/net/http/tls-facts.js';

// What crosses to and from the HTTPS worker goes through structuredClone here, as postMessage does.
const TLS: TlsFacts = {
  version: 'TLSv1.3',
  cipher: 'TLS_AES_128_GCM_SHA256',
  alpn: 'http/1.1',
  authorized: false,
  error: 'CERT_HAS_EXPIRED',
  certNotAfter: '2026-01-01T00:00:00.000Z',
  daysLeft: -3,
  subject: 'CN=example',
  issuer: 'CN=example CA',
  san: 'DNS:example.com',
};

describe('the HTTPS worker wire', () => {
  it('sends a request without its signal and makes it whole again with the worker’s', () => {
    const run = new AbortController();
    const req: HttpsRequest = {
      url: new URL('https://example.com:8443/a?b=c'),
      ip: '2001:db8::1',
      method: 'POST',
      headers: { 'x-one': '1' },
      body: 'payload',
      httpVersion: 'auto',
      maxBodyBytes: 10,
      ca: 'PEM',
      clientCert: { cert: 'C', key: 'K' },
      signal: run.signal,
    };
    const wire = structuredClone(requestToWire(req));
    const own = new AbortController();
    const back = requestFromWire(wire, own.signal);
    expect(back.url.href).toBe('https://example.com:8443/a?b=c');
    expect(back.signal).toBe(own.signal);
    const { url: _u, signal: _s, ...rest } = back;
    const { url: _u2, signal: _s2, ...sent } = req;
    expect(rest).toEqual(sent);
  });

  it('brings the body back as a Buffer of exactly its bytes (a view into a larger buffer included)', () => {
    const pool = Buffer.from('xxhello!yy');
    const body = pool.subarray(2, 8);
    const wire = structuredClone({
      status: 200,
      httpVersion: '1.1',
      headers: { a: 'b' },
      body,
      bodyBytes: 6,
      bodyTruncated: false,
      tls: TLS,
      phasesMs: { connect: 1 },
    });
    const back = exchangeFromWire(wire);
    expect(Buffer.isBuffer(back.body)).toBe(true);
    expect(back.body.toString()).toBe('hello!');
    expect(back.tls).toEqual(TLS);
  });

  it('brings a failure back as the HttpsFailure the in-process client throws, with its phases and TLS facts', () => {
    const thrown = new HttpsFailure(new CheckFailure('TLS_CERT_EXPIRED', 'expired', 'tls'), { connect: 0.2 }, TLS);
    const back = failureFromWire(structuredClone(failureToWire(thrown)));
    expect(back).toBeInstanceOf(HttpsFailure);
    const failure = back as HttpsFailure;
    expect([failure.code, failure.message, failure.phase]).toEqual(['TLS_CERT_EXPIRED', 'expired', 'tls']);
    expect(failure.phasesMs).toEqual({ connect: 0.2 });
    expect(failure.tls).toEqual(TLS);
  });

  it('keeps a plain CheckFailure’s code, and a bug stays a bug (an Error, not a result code)', () => {
    const plain = failureFromWire(
      structuredClone(failureToWire(new CheckFailure('HTTP_CONNECT_REFUSED', 'no', 'connect'))),
    );
    expect(plain).toMatchObject({ code: 'HTTP_CONNECT_REFUSED', phase: 'connect' });
    const bug = failureFromWire(structuredClone(failureToWire(new TypeError('x is undefined'))));
    expect(bug).not.toBeInstanceOf(CheckFailure);
    expect(bug.message).toContain('x is undefined');
  });

  it('aborts the worker’s exchange for the run’s reason: a deadline stays a deadline', () => {
    const deadline = new AbortController();
    deadline.abort(new RunDeadlineExceeded(1500));
    const there = new AbortController();
    there.abort(abortFromWire(structuredClone(abortToWire(deadline.signal))));
    expect(abortedByDeadline(there.signal)).toBe(true);
    expect((there.signal.reason as RunDeadlineExceeded).timeoutMs).toBe(1500);

    const cancel = new AbortController();
    cancel.abort(new RunCancelled('reload'));
    const cancelled = abortFromWire(structuredClone(abortToWire(cancel.signal)));
    expect(cancelled).toBeInstanceOf(RunCancelled);
    expect(cancelled.message).toBe('reload');
  });
});
