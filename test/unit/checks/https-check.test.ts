import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { CheckSpec, TargetSpec } from '../../../src/checks/check.js';
import { httpsKind } from '../../../src/checks/https/index.js';
import { httpsSettingsSchema } from '../../../src/checks/https/https-settings.js';
import type { HttpsSettings } from '../../../src/checks/https/https-settings.js';
import { CheckFailure } from '../../../src/errors.js';
import type { FailureCode } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import { AddressBook } from '../../../src/net/address-book.js';
import { HttpsFailure } from '../../../src/net/http/https-client.js';
import type { HttpsExchange, HttpsRequest } from '../../../src/net/http/https-client.js';
import type { TlsFacts } from '../../../src/net/http/tls-facts.js';
import type { NetDeps, ResolvedAddress } from '../../../src/net/net-deps.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { fakeNet, tableResolver } from '../../helpers/fake-net.js';
import type { ResolverAnswer } from '../../helpers/fake-net.js';

const log = createLogger('silent');
const PEM = {
  cert: readFileSync(new URL('../../fixtures/pem/localhost.crt', import.meta.url), 'utf8'),
  key: readFileSync(new URL('../../fixtures/pem/localhost.key', import.meta.url), 'utf8'),
};
const V4: ResolvedAddress = { address: '192.0.2.10', family: 4 };
const V6: ResolvedAddress = { address: '2001:db8::10', family: 6 };
type Settings = z.input<typeof httpsSettingsSchema>;

function spec(settings: Settings = {}, target: Partial<TargetSpec> = {}): CheckSpec<HttpsSettings> {
  return {
    name: 'web-https',
    kind: 'https',
    target: { name: 'web', host: 'www.example', group: '', labels: {}, ...target },
    schedule: { type: 'interval', intervalMs: 30_000 },
    timeoutMs: 5_000,
    settings: httpsSettingsSchema.parse(settings),
  };
}

const TLS: TlsFacts = {
  version: 'TLSv1.3',
  cipher: 'TLS_AES_128_GCM_SHA256',
  alpn: 'h2',
  authorized: true,
  error: null,
  certNotAfter: '2026-03-01T00:00:00.000Z',
  daysLeft: 59,
  subject: 'www.example',
  issuer: 'Example CA',
  san: 'DNS:www.example',
};

/** Cumulative stamps of an HTTPS exchange, from the connection start. */
const STAMPS = { connect: 3, tls: 10, request: 11, firstByte: 40, headers: 41, transfer: 50 };

function response(status: number, x: Omit<Partial<HttpsExchange>, 'body'> & { body?: string } = {}): HttpsExchange {
  const body = Buffer.from(x.body ?? 'hello');
  return {
    status,
    httpVersion: '2',
    tls: TLS,
    phasesMs: STAMPS,
    ...x,
    headers: x.headers ?? {},
    body,
    bodyBytes: x.bodyBytes ?? body.length,
    bodyTruncated: x.bodyTruncated ?? false,
  };
}

/** What the fake server does with a request: answer, fail, and how much fake time it takes. */
type Outcome = HttpsExchange | Error | { after: number; then: HttpsExchange | Error };

function httpsPort(clock: FakeClock, answer: (req: HttpsRequest, n: number) => Outcome) {
  const requests: HttpsRequest[] = [];
  const port: NetDeps['https'] = {
    async exchange(req) {
      requests.push(req);
      const outcome = answer(req, requests.length - 1);
      const after =
        'after' in outcome
          ? outcome.after
          : outcome instanceof Error
            ? 0
            : Math.max(0, ...Object.values(outcome.phasesMs));
      const result = 'after' in outcome ? outcome.then : outcome;
      await Promise.resolve();
      await clock.advance(after);
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return { port, requests };
}

interface Setup {
  settings?: Settings;
  target?: Partial<TargetSpec>;
  addresses?: Record<string, ResolverAnswer>;
  answer: (req: HttpsRequest, n: number) => Outcome;
}

/** Runs one check; the target resolves in 2 ms of fake time to V4 and V6 unless told otherwise. */
async function run({ settings = {}, target = {}, addresses, answer }: Setup) {
  const clock = new FakeClock();
  const resolver = tableResolver(addresses ?? { 'www.example': [V4, V6] }, { clock, delayMs: 2 });
  const { port, requests } = httpsPort(clock, answer);
  const ctx = { signal: new AbortController().signal, clock, log };
  const results = await httpsKind
    .create(spec({ ips: 1, ...settings }, target), fakeNet({ resolver, https: port }))
    .run(ctx);
  return { results, result: results[0]!, requests, resolver, ctx };
}

const failure = (
  code: FailureCode,
  phase: string,
  phasesMs: Record<string, number> = {},
  tls: TlsFacts | null = null,
) => new HttpsFailure(new CheckFailure(code, `${code} happened`, phase), phasesMs, tls);

describe('https check: addresses and requests', () => {
  it('makes one exchange per resolved IP, the URL kept for SNI and Host, one record each', async () => {
    const { results, requests } = await run({
      settings: { ips: 'all' },
      answer: (req) => (req.ip === V6.address ? failure('HTTP_CONNECT_REFUSED', 'connect') : response(200)),
    });
    expect(requests.map((r) => [r.url.href, r.ip])).toEqual([
      ['https://www.example/', V4.address],
      ['https://www.example/', V6.address],
    ]);
    expect(results.map((r) => [r.ip, r.ok, r.error?.code ?? null])).toEqual([
      [V4.address, true, null],
      [V6.address, false, 'HTTP_CONNECT_REFUSED'],
    ]);
  });

  it.each([
    [{ host: 'www.example' }, 'https://www.example/'],
    [{ host: '2001:db8::10' }, 'https://[2001:db8::10]/'],
    [{ url: 'http://www.example:8080/health?full=1' }, 'http://www.example:8080/health?full=1'],
  ])('asks for the target %j at %s', async (target, href) => {
    const { result, requests } = await run({
      target,
      addresses: { 'www.example': [V4], '2001:db8::10': [V6] },
      answer: () => response(200),
    });
    expect(requests.map((r) => r.url.href)).toEqual([href]);
    expect(result).toMatchObject({ ok: true, url: href });
  });

  it('sends what the settings say, and nothing they do not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-https-'));
    try {
      for (const [file, text] of [
        ['ca.pem', PEM.cert],
        ['cert.pem', PEM.cert],
        ['key.pem', PEM.key],
      ]) {
        writeFileSync(join(dir, file!), text!);
      }
      const { requests, ctx } = await run({
        settings: {
          method: 'POST',
          headers: { authorization: 'Bearer x' },
          body: '{"a":1}',
          http_version: '2',
          max_body_bytes: 100,
          source_address: '192.0.2.200',
          ca_file: join(dir, 'ca.pem'),
          client_cert_file: join(dir, 'cert.pem'),
          client_key_file: join(dir, 'key.pem'),
        },
        answer: () => response(200),
      });
      const { url, signal, ...rest } = requests[0]!;
      expect(url.href).toBe('https://www.example/');
      expect(signal).toBe(ctx.signal);
      expect(rest).toEqual({
        ip: V4.address,
        method: 'POST',
        headers: { authorization: 'Bearer x' },
        body: '{"a":1}',
        httpVersion: '2',
        maxBodyBytes: 100,
        ca: PEM.cert,
        clientCert: { cert: PEM.cert, key: PEM.key },
        sourceAddress: '192.0.2.200',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const { requests } = await run({ answer: () => response(200) });
    const { url, signal: _signal, ...rest } = requests[0]!;
    expect(url.href).toBe('https://www.example/');
    // Defaults: no body, CA, client certificate or source address at all.
    expect(rest).toStrictEqual({
      ip: V4.address,
      method: 'GET',
      headers: {},
      httpVersion: 'auto',
      maxBodyBytes: 1_048_576,
    });
  });

  it("probes the addresses the target's dns check found, without asking the resolver", async () => {
    const clock = new FakeClock();
    const addressBook = new AddressBook(() => clock.wallMs());
    addressBook.publish('web', 4, ['198.51.100.1', '198.51.100.2'], 60_000, 'dns check web-dns via system');
    const { port, requests } = httpsPort(clock, () => response(200));
    const results = await httpsKind
      .create(spec({ ip_family: 'ipv4' }), fakeNet({ https: port, addressBook }))
      .run({ signal: new AbortController().signal, clock, log });
    expect(requests.map((r) => r.ip)).toEqual(['198.51.100.1', '198.51.100.2']);
    expect(results.map((r) => [r.ip, r.ok, r.addressSource])).toEqual([
      ['198.51.100.1', true, 'dns check web-dns via system'],
      ['198.51.100.2', true, 'dns check web-dns via system'],
    ]);
  });

  it.each([
    [{}, 'DNS_NAME_NOT_FOUND'],
    [{ 'www.example': [V6] }, 'DNS_NO_ADDRESS'],
  ])('gives one record without ip and sends nothing when the name does not resolve (%j)', async (table, code) => {
    const clock = new FakeClock();
    const [result, ...rest] = await httpsKind
      .create(spec({ ip_family: 'ipv4' }), fakeNet({ resolver: tableResolver(table) }))
      .run({ signal: new AbortController().signal, clock, log });
    expect(rest).toEqual([]);
    expect(result).toMatchObject({ ok: false, error: { code, phase: 'resolve' } });
    expect(result).not.toHaveProperty('ip');
  });
});

describe('https check: phases and record', () => {
  it.each([
    ['HTTPS', STAMPS, { dns: 2, connect: 3, tls: 7, request: 1, firstByte: 29, headers: 1, transfer: 9, total: 52 }],
    [
      'plain HTTP (no tls stamp)',
      { connect: 3, request: 4, firstByte: 20, headers: 20, transfer: 25 },
      { dns: 2, connect: 3, request: 1, firstByte: 16, headers: 0, transfer: 5, total: 27 },
    ],
  ])('turns the cumulative stamps of %s into phase durations', async (_what, stamps, phases) => {
    const { result } = await run({ answer: () => response(200, { phasesMs: stamps }) });
    expect(result.phasesMs).toEqual(phases);
    expect(result.durationMs).toBe(phases.total);
  });

  it('records the final response: status, version, TLS facts, length, no redirects', async () => {
    const { result } = await run({ answer: () => response(200, { httpVersion: '1.1', body: 'x'.repeat(12) }) });
    expect(result).toEqual({
      check: 'web-https',
      kind: 'https',
      target: 'web',
      ip: V4.address,
      ok: true,
      error: null,
      startedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 52,
      phasesMs: { dns: 2, connect: 3, tls: 7, request: 1, firstByte: 29, headers: 1, transfer: 9, total: 52 },
      url: 'https://www.example/',
      status: 200,
      httpVersion: '1.1',
      tls: TLS,
      redirects: [],
      contentLength: 12,
    });
  });

  it('keeps the phases and TLS facts the exchange reached when it failed', async () => {
    const { result } = await run({
      answer: () => ({
        after: 700,
        then: failure('HTTP_TIMEOUT', 'firstByte', { connect: 3, tls: 10, request: 11 }, TLS),
      }),
    });
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'HTTP_TIMEOUT', message: 'HTTP_TIMEOUT happened', phase: 'firstByte' },
      status: 0,
      httpVersion: null,
      contentLength: null,
      redirects: [],
      tls: TLS,
      durationMs: 702,
      phasesMs: { dns: 2, connect: 3, tls: 7, request: 1, total: 702 },
    });
  });

  it.each([
    ['HTTP_CONNECT_REFUSED', 'connect'],
    ['HTTP_CONNECT_FAILED', 'connect'],
    ['HTTP_TIMEOUT', 'connect'],
    ['TLS_HANDSHAKE', 'tls'],
    ['HTTP_PROTOCOL_ERROR', 'firstByte'],
    ['ABORTED', 'transfer'],
  ] as Array<[FailureCode, string]>)('keeps the exchange failure %s (phase %s) as the error', async (code, phase) => {
    const { result } = await run({ answer: () => failure(code, phase, { connect: 3 }) });
    expect(result).toMatchObject({ ok: false, error: { code, phase }, tls: null, status: 0 });
  });

  it('turns a throw that is not a CheckFailure into INTERNAL', async () => {
    const { result } = await run({ answer: () => new TypeError('boom') });
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'INTERNAL', message: 'unexpected error in request: boom', phase: 'request' },
      phasesMs: { dns: 2, total: 2 },
    });
  });

  it.each([
    ['TLS_CERT_EXPIRED', 'CERT_HAS_EXPIRED', '2025-12-29T00:00:00.000Z', -3],
    ['TLS_CERT_EXPIRED', 'CERT_NOT_YET_VALID', '2027-01-01T00:00:00.000Z', 365],
    ['TLS_CERT_NAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID', '2026-03-01T00:00:00.000Z', 59],
    ['TLS_CERT_UNTRUSTED', 'SELF_SIGNED_CERT_IN_CHAIN', '2026-03-01T00:00:00.000Z', 59],
  ] as Array<[FailureCode, string, string, number]>)(
    'reports a bad certificate as %s with the facts (%s, expiry in the record)',
    async (code, error, certNotAfter, daysLeft) => {
      const tls = { ...TLS, authorized: false, error, certNotAfter, daysLeft };
      const { result } = await run({ answer: () => failure(code, 'tls', { connect: 3, tls: 10 }, tls) });
      expect(result).toMatchObject({ ok: false, error: { code, phase: 'tls' }, tls });
      expect(result.phasesMs).toEqual({ dns: 2, connect: 3, tls: 7, total: 2 });
    },
  );

  it.each([
    [failure('HTTP_TIMEOUT', 'connect'), true],
    [failure('HTTP_TIMEOUT', 'tls'), false],
    [failure('HTTP_TIMEOUT', 'firstByte'), false],
    [failure('HTTP_CONNECT_REFUSED', 'connect'), false],
    [failure('HTTP_CONNECT_FAILED', 'connect'), false],
    [response(503), false],
  ])('calls the IP silent (for a triggered traceroute) only after a connect timeout: %s', async (outcome, silent) => {
    const { result } = await run({ answer: () => outcome });
    expect(httpsKind.silentIp?.(result) ?? false).toBe(silent);
  });
});

describe('https check: validation', () => {
  it.each([
    [200, {}, null],
    [204, {}, null],
    [302, {}, 'HTTP_STATUS'],
    [503, {}, 'HTTP_STATUS'],
    [404, { accept_status: [404] }, null],
    [404, { accept_status: ['200-299', '4xx'] }, null],
    [200, { accept_status: ['5xx'] }, 'HTTP_STATUS'],
  ] as Array<[number, Settings, FailureCode | null]>)(
    'judges the final status %d against %j',
    async (status, settings, code) => {
      const { result } = await run({ settings, answer: () => response(status) });
      expect(result).toMatchObject({ status, ok: code === null });
      expect(result.error?.code ?? null).toBe(code);
    },
  );

  it('names the status and the accepted ones in the message (phase response)', async () => {
    const { result } = await run({ settings: { accept_status: [200, '3xx'] }, answer: () => response(503) });
    expect(result.error).toEqual({
      code: 'HTTP_STATUS',
      message: 'https://www.example/ answered 503 (accepted: 200, 3xx)',
      phase: 'response',
    });
  });

  it.each([
    ['a matching body', 'status: all good', {}, null],
    ['a body that does not match', 'status: degraded', {}, 'HTTP_BODY_MISMATCH'],
    ['a body of exactly max_body_bytes', 'status: all good', { max_body_bytes: 16 }, null],
    ['a body one byte larger', 'status: all good', { max_body_bytes: 15 }, 'HTTP_BODY_TOO_LARGE'],
  ] as Array<[string, string, Settings, FailureCode | null]>)(
    'checks the body: %s',
    async (_what, body, settings, code) => {
      const { result } = await run({
        settings: { body_regex: 'all good$', ...settings },
        answer: () => response(200, { body }),
      });
      expect(result.error?.code ?? null).toBe(code);
      if (code) expect(result.error?.phase).toBe('transfer');
      expect(result.contentLength).toBe(16);
    },
  );

  it('counts the bytes the exchange saw, not the bytes it kept, against max_body_bytes', async () => {
    const { result } = await run({
      settings: { max_body_bytes: 4 },
      answer: () => response(200, { body: 'abcde', bodyBytes: 9_000 }),
    });
    expect(result).toMatchObject({
      contentLength: 9_000,
      error: {
        code: 'HTTP_BODY_TOO_LARGE',
        message: 'body of 9000 bytes, more than max_body_bytes 4',
        phase: 'transfer',
      },
    });
  });

  it('tells the exchange to read at most max_body_bytes; a body it stopped reading fails (issue 12 #1)', async () => {
    const { result, requests } = await run({
      settings: { max_body_bytes: 65_536, body_regex: 'never checked' },
      answer: () =>
        response(200, {
          body: 'x'.repeat(65_536),
          bodyBytes: 65_536 + 16_384,
          bodyTruncated: true,
          headers: { 'content-length': '100000000000' },
        }),
    });
    expect(requests.map((r) => r.maxBodyBytes)).toEqual([65_536]);
    expect(result).toMatchObject({
      ok: false,
      status: 200,
      contentLength: 81_920,
      error: {
        code: 'HTTP_BODY_TOO_LARGE',
        message:
          'body larger than max_body_bytes 65536 (Content-Length 100000000000): reading stopped after 81920 bytes ' +
          'and the connection was closed',
        phase: 'transfer',
      },
    });
  });

  it.each([
    ['a name in any case', '^X-Served-By: edge-\\d+$', { 'x-served-by': 'edge-12' }, true],
    ['one value of a repeated header', '^set-cookie: session=', { 'set-cookie': ['a=1', 'session=xyz'] }, true],
    ['a value on another header', '^server: edge', { via: 'edge' }, false],
    ['no headers', '.', {}, false],
  ] as Array<[string, string, HttpsExchange['headers'], boolean]>)(
    'matches header_regex against `name: value` lines: %s',
    async (_what, header_regex, headers, matches) => {
      const { result } = await run({ settings: { header_regex }, answer: () => response(200, { headers }) });
      expect(result.error).toEqual(
        matches
          ? null
          : { code: 'HTTP_HEADER_MISMATCH', message: `no header matches /${header_regex}/`, phase: 'headers' },
      );
    },
  );

  it('checks status, then size, then body, then headers', async () => {
    const everythingWrong = response(503, { body: 'nope', bodyBytes: 10, headers: {} });
    const settings = { body_regex: 'yes', header_regex: 'x-ok', max_body_bytes: 5 };
    const checks = async (s: Settings, x: HttpsExchange) => (await run({ settings: s, answer: () => x })).result;
    expect((await checks(settings, everythingWrong)).error?.code).toBe('HTTP_STATUS');
    expect((await checks(settings, { ...everythingWrong, status: 200 })).error?.code).toBe('HTTP_BODY_TOO_LARGE');
    expect((await checks({ ...settings, max_body_bytes: 10 }, { ...everythingWrong, status: 200 })).error?.code).toBe(
      'HTTP_BODY_MISMATCH',
    );
    expect(
      (await checks({ ...settings, max_body_bytes: 10 }, { ...everythingWrong, status: 200, body: Buffer.from('yes') }))
        .error?.code,
    ).toBe('HTTP_HEADER_MISMATCH');
  });
});

describe('https check: redirects', () => {
  const redirect = (status: number, location: string, after = 10): Outcome => ({
    after,
    then: response(status, { headers: { location }, body: '' }),
  });

  it('follows a chain on the same host and IP (Location relative to the current URL), recording each hop', async () => {
    const { result, requests, resolver } = await run({
      answer: (_req, n) => [redirect(302, '/dir/a', 10), redirect(301, 'b', 20), response(200)][n] ?? new Error('more'),
    });
    expect(requests.map((r) => [r.url.href, r.ip])).toEqual([
      ['https://www.example/', V4.address],
      ['https://www.example/dir/a', V4.address],
      ['https://www.example/dir/b', V4.address],
    ]);
    expect(resolver.calls).toHaveLength(1);
    expect(result).toMatchObject({
      ok: true,
      url: 'https://www.example/dir/b',
      status: 200,
      redirects: [
        { url: 'https://www.example/', status: 302, ip: V4.address, durationMs: 10 },
        { url: 'https://www.example/dir/a', status: 301, ip: V4.address, durationMs: 20 },
      ],
      durationMs: 2 + 10 + 20 + 50,
    });
    expect(result.phasesMs).toMatchObject({ dns: 2, connect: 3, transfer: 9, total: 82 });
  });

  it("resolves another host in the family of the IP being probed, and probes that host's first address", async () => {
    const cdn = { v4: '198.51.100.7', v6: '2001:db8::7' };
    const { results, requests, resolver } = await run({
      settings: { ips: 'all' },
      addresses: {
        'www.example': [V4, V6],
        'cdn.example': [
          { address: cdn.v6, family: 6 },
          { address: cdn.v4, family: 4 },
          { address: '198.51.100.8', family: 4 },
        ],
      },
      answer: (req) => (req.url.hostname === 'www.example' ? redirect(302, 'https://cdn.example/x') : response(200)),
    });
    expect(resolver.calls).toEqual([
      { host: 'www.example', family: 'any' },
      { host: 'cdn.example', family: 'ipv4' },
      { host: 'cdn.example', family: 'ipv6' },
    ]);
    expect(requests.map((r) => [r.url.href, r.ip]).sort()).toEqual(
      [
        ['https://www.example/', V4.address],
        ['https://www.example/', V6.address],
        ['https://cdn.example/x', cdn.v4],
        ['https://cdn.example/x', cdn.v6],
      ].sort(),
    );
    // Each IP's record: its own chain, the hop at the address it started from.
    expect(results.map((r) => [r.ip, r.ok, r.url, r.redirects?.map((h) => h.ip)])).toEqual([
      [V4.address, true, 'https://cdn.example/x', [V4.address]],
      [V6.address, true, 'https://cdn.example/x', [V6.address]],
    ]);
  });

  it('fails with the resolver failure when the next host does not resolve', async () => {
    const { result } = await run({ answer: () => redirect(302, 'https://gone.example/') });
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'DNS_NAME_NOT_FOUND', phase: 'resolve' },
      url: 'https://www.example/',
      status: 302,
      redirects: [{ url: 'https://www.example/', status: 302 }],
    });
  });

  it.each([0, 2])('stops after max_redirects %d with HTTP_TOO_MANY_REDIRECTS', async (max) => {
    const { result, requests } = await run({
      settings: { max_redirects: max },
      answer: (_req, n) => redirect(302, `/hop${n + 1}`),
    });
    expect(requests).toHaveLength(max + 1);
    expect(result).toMatchObject({
      ok: false,
      status: 302,
      error: {
        code: 'HTTP_TOO_MANY_REDIRECTS',
        message: `more than ${max} redirects from https://www.example/`,
        phase: 'redirect',
      },
    });
    expect(result.redirects).toHaveLength(max + 1);
  });

  it.each([
    ['follow_redirects off', { follow_redirects: false }, { location: '/next' }, 'HTTP_STATUS'],
    [
      'follow_redirects off, 3xx accepted',
      { follow_redirects: false, accept_status: ['3xx'] },
      { location: '/n' },
      null,
    ],
    ['no Location header', {}, {}, 'HTTP_STATUS'],
  ] as Array<[string, Settings, HttpsExchange['headers'], FailureCode | null]>)(
    'takes a 3xx as the final answer with %s',
    async (_what, settings, headers, code) => {
      const { result, requests } = await run({ settings, answer: () => response(302, { headers }) });
      expect(requests).toHaveLength(1);
      expect(result).toMatchObject({ status: 302, redirects: [] });
      expect(result.error?.code ?? null).toBe(code);
    },
  );

  it('sends a redirect to another host that has no address in the family being probed nowhere (issue 12)', async () => {
    // www.example has IPv4 only; it redirects to v6only.example, which has IPv6 only.
    const { result, requests, resolver } = await run({
      addresses: { 'www.example': [V4], 'v6only.example': [{ address: '2001:db8::66', family: 6 }] },
      answer: (req) => (req.url.hostname === 'www.example' ? redirect(302, 'https://v6only.example/') : response(200)),
    });
    expect(resolver.calls).toEqual([
      { host: 'www.example', family: 'any' },
      { host: 'v6only.example', family: 'ipv4' },
    ]);
    // No request to the old server under the new host's name.
    expect(requests.map((r) => [r.url.href, r.ip])).toEqual([['https://www.example/', V4.address]]);
    expect(result).toMatchObject({
      ok: false,
      ip: V4.address,
      status: 302,
      url: 'https://www.example/',
      error: {
        code: 'DNS_NO_ADDRESS',
        message:
          'v6only.example (redirected to from https://www.example/) has no ipv4 address to follow the redirect ' +
          `from ${V4.address}`,
        phase: 'resolve',
      },
      redirects: [{ url: 'https://www.example/', status: 302, ip: V4.address }],
    });
  });

  it.each([
    ['file:///etc/passwd', 'HTTP_REDIRECT_REFUSED'],
    ['FILE:///etc/passwd', 'HTTP_REDIRECT_REFUSED'],
    ['ftp://www.example/pub', 'HTTP_REDIRECT_REFUSED'],
    ['data:text/plain,hello', 'HTTP_REDIRECT_REFUSED'],
    ['javascript:alert(1)', 'HTTP_REDIRECT_REFUSED'],
    ['ht!tp://[::zz', 'HTTP_BAD_REDIRECT'],
    ['http://[::zz/', 'HTTP_BAD_REDIRECT'],
    ['https://', 'HTTP_BAD_REDIRECT'],
    ['', 'HTTP_BAD_REDIRECT'],
    ['   ', 'HTTP_BAD_REDIRECT'],
  ] as Array<[string, FailureCode]>)(
    'does not follow a redirect to %j: %s, one request, no lookup (issue 12 #3)',
    async (location, code) => {
      const { result, requests, resolver } = await run({ answer: () => redirect(302, location) });
      expect(requests).toHaveLength(1);
      expect(resolver.calls).toEqual([{ host: 'www.example', family: 'any' }]);
      expect(result).toMatchObject({
        ok: false,
        status: 302,
        url: 'https://www.example/',
        error: { code, phase: 'redirect' },
        redirects: [{ url: 'https://www.example/', status: 302 }],
      });
      expect(result.error?.message).toContain(`redirected to ${JSON.stringify(location.trim())}`);
    },
  );

  it.each([
    ['/a:b', 'https://www.example/a:b'],
    ['./a:b', 'https://www.example/a:b'],
    ['?next=http://x', 'https://www.example/?next=http://x'],
    ['//cdn.example:8443/x', 'https://cdn.example:8443/x'],
    ['HTTP://www.example/up', 'http://www.example/up'],
    ['  /trimmed  ', 'https://www.example/trimmed'],
  ])('follows the valid reference %j to %s', async (location, href) => {
    const { requests } = await run({
      addresses: { 'www.example': [V4], 'cdn.example': [{ address: '198.51.100.7', family: 4 }] },
      answer: (_req, n) => (n === 0 ? redirect(302, location) : response(200)),
    });
    expect(requests.map((r) => r.url.href)).toEqual(['https://www.example/', href]);
  });
});
