import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { CheckSpec, ScheduleSpec } from '../../../src/checks/check.js';
import { dnsKind } from '../../../src/checks/dns/index.js';
import { dnsSettingsSchema } from '../../../src/checks/dns/dns-settings.js';
import type { DnsSettings } from '../../../src/checks/dns/dns-settings.js';
import { CheckFailure } from '../../../src/errors.js';
import type { FailureCode } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import { AddressBook } from '../../../src/net/address-book.js';
import type { DnsExchange, DnsQueryRequest } from '../../../src/net/dns/dns-client.js';
import type { DnsFlags, DnsMessage } from '../../../src/net/dns/dns-message.js';
import type { DnsQueryPort, HostResolver, NetDeps } from '../../../src/net/net-deps.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { fakeNet, tableResolver } from '../../helpers/fake-net.js';

const log = createLogger('silent');
const NAME = 'www.example';

function spec(
  settings: z.input<typeof dnsSettingsSchema> = {},
  opts: { schedule?: ScheduleSpec; timeoutMs?: number } = {},
): CheckSpec<DnsSettings> {
  return {
    name: 'www-dns',
    kind: 'dns',
    target: { name: 'www', host: NAME, group: '', labels: {} },
    schedule: opts.schedule ?? { type: 'interval', intervalMs: 30_000 },
    timeoutMs: opts.timeoutMs ?? 5_000,
    settings: dnsSettingsSchema.parse(settings),
  };
}

/** An answer as the fake server gives it: records as `[type, data, ttl?]`, section counts, flags. */
interface Reply {
  rcode?: number;
  answers?: Array<[type: string, data: string, ttl?: number]>;
  authorities?: number;
  additionals?: number;
  flags?: Partial<DnsFlags>;
  /** What carried the answer (default: the transport asked for). */
  transport?: DnsExchange['transport'];
  phasesMs?: Record<string, number>;
}

/** A DNS port answering each query with `reply(request)`, after `delayMs` of fake time. */
function dnsPort(reply: (req: DnsQueryRequest) => Reply | Error, timing?: { clock: FakeClock; delayMs: number }) {
  const requests: DnsQueryRequest[] = [];
  const port: DnsQueryPort = {
    async query(req) {
      requests.push(req);
      // Time passes after the call returned, as with a real socket (the caller stamps its start first).
      await Promise.resolve();
      if (timing) await timing.clock.advance(timing.delayMs);
      const r = reply(req);
      if (r instanceof Error) throw r;
      const record = (n: number) => ({ name: NAME, type: 'NS', ttl: 60, data: `ns${n}.example.` });
      const message: DnsMessage = {
        id: 1,
        response: true,
        opcode: 0,
        rcode: r.rcode ?? 0,
        flags: { aa: false, tc: false, rd: true, ra: true, ad: false, cd: false, ...r.flags },
        question: { name: req.name, type: req.type },
        answers: (r.answers ?? []).map(([type, data, ttl = 300]) => ({ name: req.name, type, data, ttl })),
        authorities: Array.from({ length: r.authorities ?? 0 }, (_, i) => record(i)),
        additionals: Array.from({ length: r.additionals ?? 0 }, (_, i) => record(i)),
        ednsUdpSize: null,
      };
      return {
        message,
        transport: r.transport ?? req.server.transport,
        server: `${req.server.address}:${req.server.port}`,
        phasesMs: r.phasesMs ?? { request: timing?.delayMs ?? 0 },
        responseBytes: 100,
      };
    },
  };
  return { port, requests };
}

const answerA = (...addresses: string[]): Reply => ({ answers: addresses.map((a): [string, string] => ['A', a]) });

async function run(s: CheckSpec<DnsSettings>, net: NetDeps, clock = new FakeClock()) {
  return dnsKind.create(s, net).run({ signal: new AbortController().signal, clock, log });
}

/** One run against one server resolver answering `reply`. */
async function runOne(settings: z.input<typeof dnsSettingsSchema>, reply: Reply | Error) {
  const { port, requests } = dnsPort(() => reply);
  const [result, ...rest] = await run(spec({ resolver: '192.0.2.53', ...settings }), fakeNet({ dns: port }));
  expect(rest).toEqual([]);
  return { result: result!, requests };
}

describe('dns check: timing (issue 17)', () => {
  it("excludes the adapters' warm-up (NetDeps.ready) from the record: durationMs is the exchange", async () => {
    const clock = new FakeClock();
    const { port } = dnsPort(() => answerA('198.51.100.1'), { clock, delayMs: 7 });
    const net: NetDeps = { ...fakeNet({ dns: port }), ready: () => clock.advance(300) };
    const [result] = await run(spec({ resolver: '192.0.2.53' }), net, clock);
    expect(result).toMatchObject({ ok: true, durationMs: 7, phasesMs: { request: 7 } });
  });

  it('gives every resolver its own duration, each covering its phases (system and server at once)', async () => {
    const clock = new FakeClock();
    const { port } = dnsPort(() => answerA('198.51.100.1'), { clock, delayMs: 3 });
    const resolver: HostResolver = {
      async resolve() {
        await clock.advance(5);
        return [{ address: '198.51.100.1', family: 4 }];
      },
    };
    const results = await run(spec({ resolver: ['system', '192.0.2.53'] }), fakeNet({ dns: port, resolver }), clock);
    for (const r of results) {
      const phases = Object.values(r.phasesMs);
      expect(phases.every((p) => p >= 0)).toBe(true);
      expect(phases.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(r.durationMs);
    }
    expect(results.map((r) => r.phasesMs.request)).toEqual(results.map((r) => r.durationMs));
  });
});

describe('dns check: resolvers', () => {
  it.each([
    ['192.0.2.53', { transport: 'udp', address: '192.0.2.53', port: 53 }],
    ['[2001:db8::53]:5353', { transport: 'udp', address: '2001:db8::53', port: 5353 }],
    ['tcp://192.0.2.53', { transport: 'tcp', address: '192.0.2.53', port: 53 }],
    ['tls://192.0.2.53#dns.example', { transport: 'tls', address: '192.0.2.53', port: 853, serverName: 'dns.example' }],
  ])('asks %s over its transport and records it as the record ip', async (resolver, server) => {
    const { result, requests } = await runOne({ resolver }, answerA('198.51.100.1'));
    expect(requests).toHaveLength(1);
    expect(requests[0]!.server).toEqual(server);
    expect(requests[0]).toMatchObject({ name: NAME, type: 'A' });
    expect(result).toMatchObject({
      ok: true,
      ip: server.address,
      resolver,
      transport: server.transport,
      server: `${server.address}:${server.port}`,
    });
  });

  it('resolves a DoH resolver named by host first (phase resolve), the URL path and TLS name kept', async () => {
    const clock = new FakeClock();
    const resolver = tableResolver({ 'doh.example': [{ address: '203.0.113.9', family: 4 }] }, { clock, delayMs: 3 });
    const { port, requests } = dnsPort(() => ({ ...answerA('198.51.100.1'), phasesMs: { connect: 2, request: 5 } }));
    const [result] = await run(
      spec({ resolver: 'https://doh.example/dns-query?ct' }),
      fakeNet({ resolver, dns: port }),
      clock,
    );
    expect(resolver.calls).toEqual([{ host: 'doh.example', family: 'any' }]);
    expect(requests[0]!.server).toEqual({
      transport: 'https',
      address: '203.0.113.9',
      port: 443,
      serverName: 'doh.example',
      path: '/dns-query?ct',
    });
    expect(result).toMatchObject({ ok: true, transport: 'https', phasesMs: { resolve: 3, connect: 2, request: 5 } });
    // The record's ip is the resolver's address only when it was configured as one.
    expect(result).not.toHaveProperty('ip');
  });

  it("reports a DoH resolver whose own name does not resolve with the resolver's failure", async () => {
    const resolver = tableResolver({});
    const [result] = await run(spec({ resolver: 'https://doh.example/dns-query' }), fakeNet({ resolver }));
    expect(result).toMatchObject({ ok: false, error: { code: 'DNS_NAME_NOT_FOUND', phase: 'resolve' } });
  });

  it.each([
    ['A', 'ipv4', '198.51.100.1', 4],
    ['AAAA', 'ipv6', '2001:db8::1', 6],
  ] as const)('asks the system resolver for %s as %s, without the dns port', async (type, family, address, f) => {
    const resolver = tableResolver({ [NAME]: [{ address, family: f }] });
    const [result] = await run(spec({ type }), fakeNet({ resolver }));
    expect(resolver.calls).toEqual([{ host: NAME, family }]);
    expect(result).toMatchObject({
      ok: true,
      resolver: 'system',
      transport: 'system',
      server: 'system',
      rcode: 'NOERROR',
      flags: null,
      answers: [{ name: NAME, type, data: address, ttl: 0 }],
      cnameChain: [NAME],
      addresses: [address],
    });
    expect(result).not.toHaveProperty('ip');
  });

  it('gives one record per resolver, in config order, each with its own verdict', async () => {
    const { port, requests } = dnsPort((req) =>
      req.server.address === '192.0.2.54' ? { rcode: 2 } : answerA('198.51.100.1'),
    );
    const resolver = tableResolver({ [NAME]: [{ address: '198.51.100.1', family: 4 }] });
    const results = await run(
      spec({ resolver: ['tcp://192.0.2.53', 'system', '192.0.2.54'] }),
      fakeNet({ resolver, dns: port }),
    );
    expect(results.map((r) => [r.resolver, r.ok, r.error?.code ?? null])).toEqual([
      ['tcp://192.0.2.53', true, null],
      ['system', true, null],
      ['192.0.2.54', false, 'DNS_RCODE'],
    ]);
    expect(requests.map((r) => r.server.address).sort()).toEqual(['192.0.2.53', '192.0.2.54']);
  });

  it.each([
    [{}, 1232],
    [{ udp_size: 4096 }, 4096],
    [{ udp_size: 0 }, undefined],
  ])('advertises EDNS per udp_size %j', async (settings, size) => {
    const { requests } = await runOne(settings, answerA('198.51.100.1'));
    expect(requests[0]!.ednsUdpSize).toBe(size);
    expect('ednsUdpSize' in requests[0]!).toBe(size !== undefined);
  });

  it("passes ca_file's certificates to the transport", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-dns-ca-'));
    try {
      const pem = readFileSync(new URL('../../fixtures/pem/localhost.crt', import.meta.url), 'utf8');
      writeFileSync(join(dir, 'ca.pem'), pem);
      const { requests } = await runOne(
        { resolver: 'tls://192.0.2.53#dns.example', ca_file: join(dir, 'ca.pem') },
        answerA('198.51.100.1'),
      );
      expect(requests[0]!.server.ca).toBe(pem);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('dns check: the record', () => {
  it('carries the answer: rcode, flags, sections, CNAME chain, addresses, phases and duration', async () => {
    const clock = new FakeClock();
    const { port } = dnsPort(
      () => ({
        answers: [
          ['CNAME', 'edge.example.', 60],
          ['CNAME', 'edge2.example.', 30],
          ['A', '198.51.100.1', 20],
          ['AAAA', '2001:db8::1', 20],
        ],
        authorities: 2,
        additionals: 1,
        flags: { aa: true, ad: true },
        transport: 'tcp',
        phasesMs: { udp: 4, connect: 1, request: 2 },
      }),
      { clock, delayMs: 7 },
    );
    const [result] = await run(spec({ resolver: '192.0.2.53' }), fakeNet({ dns: port }), clock);
    expect(result).toEqual({
      check: 'www-dns',
      kind: 'dns',
      target: 'www',
      ip: '192.0.2.53',
      ok: true,
      error: null,
      startedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 7,
      phasesMs: { udp: 4, connect: 1, request: 2 },
      resolver: '192.0.2.53',
      transport: 'tcp',
      server: '192.0.2.53:53',
      query: NAME,
      queryType: 'A',
      rcode: 'NOERROR',
      flags: { aa: true, tc: false, ra: true, ad: true },
      answers: [
        { name: NAME, type: 'CNAME', data: 'edge.example.', ttl: 60 },
        { name: NAME, type: 'CNAME', data: 'edge2.example.', ttl: 30 },
        { name: NAME, type: 'A', data: '198.51.100.1', ttl: 20 },
        { name: NAME, type: 'AAAA', data: '2001:db8::1', ttl: 20 },
      ],
      cnameChain: [NAME, 'edge.example', 'edge2.example'],
      addresses: ['198.51.100.1', '2001:db8::1'],
      authorityCount: 2,
      additionalCount: 1,
      hijack: null,
      answersChanged: false,
    });
  });

  it("says when a resolver's answer set changed since its previous answer, not when order or TTL did", async () => {
    let answers: Reply['answers'] = [];
    const { port } = dnsPort((req) => (req.server.address === '192.0.2.54' ? answerA('203.0.113.1') : { answers }));
    const check = dnsKind.create(spec({ resolver: ['192.0.2.53', '192.0.2.54'] }), fakeNet({ dns: port }));
    const changed: Array<Array<boolean | undefined>> = [];
    for (const next of [
      [['A', '198.51.100.1', 300]],
      [['A', '198.51.100.1', 10]],
      [
        ['A', '198.51.100.2', 300],
        ['A', '198.51.100.1', 300],
      ],
      [
        ['A', '198.51.100.1', 300],
        ['A', '198.51.100.2', 300],
      ],
    ] as Array<Reply['answers']>) {
      answers = next;
      const results = await check.run({ signal: new AbortController().signal, clock: new FakeClock(), log });
      changed.push(results.map((r) => r.answersChanged));
    }
    expect(changed).toEqual([
      [false, false],
      [false, false],
      [true, false],
      [false, false],
    ]);
  });

  it.each([
    ['DNS_TIMEOUT', 'request'],
    ['DNS_CONNECT_FAILED', 'connect'],
    ['DNS_TLS_FAILED', 'tls'],
    ['DNS_MALFORMED', 'request'],
  ] as Array<[FailureCode, string]>)(
    'keeps a transport failure %s (phase %s) as the error, with empty answer fields',
    async (code, phase) => {
      const clock = new FakeClock();
      const { port } = dnsPort(() => new CheckFailure(code, 'it failed', phase), { clock, delayMs: 9 });
      const [result] = await run(spec({ resolver: 'tcp://192.0.2.53' }), fakeNet({ dns: port }), clock);
      expect(result).toMatchObject({
        ok: false,
        ip: '192.0.2.53',
        error: { code, message: 'it failed', phase },
        durationMs: 9,
        phasesMs: { request: 9 },
        resolver: 'tcp://192.0.2.53',
        transport: 'tcp',
        server: '',
        rcode: '',
        flags: null,
        answers: [],
        addresses: [],
        hijack: null,
        answersChanged: false,
      });
    },
  );

  it('turns anything else a port throws into INTERNAL, and a system resolver failure keeps its code', async () => {
    const { result } = await runOne({}, new TypeError('boom'));
    expect(result.error).toEqual({ code: 'INTERNAL', message: 'unexpected error in request: boom', phase: 'request' });
    const [system] = await run(spec(), fakeNet({ resolver: tableResolver({}) }));
    expect(system).toMatchObject({ ok: false, resolver: 'system', error: { code: 'DNS_NAME_NOT_FOUND' } });
  });
});

describe('dns check: answer checks', () => {
  it.each([
    ['NXDOMAIN', { rcode: 3 }, {}, 'DNS_NXDOMAIN'],
    ['SERVFAIL', { rcode: 2 }, {}, 'DNS_RCODE'],
    ['REFUSED', { rcode: 5 }, {}, 'DNS_RCODE'],
    ['an unnamed rcode', { rcode: 11 }, {}, 'DNS_RCODE'],
    ['SERVFAIL accepted (lower case)', { rcode: 2 }, { accept_rcodes: ['servfail'], min_answers: 0 }, null],
    ['NOERROR not accepted', answerA('198.51.100.1'), { accept_rcodes: ['NXDOMAIN'] }, 'DNS_RCODE'],
    ['NXDOMAIN while cache-busting', { rcode: 3 }, { cache_bust: true }, null],
  ] as Array<[string, Reply, z.input<typeof dnsSettingsSchema>, FailureCode | null]>)(
    'judges the response code: %s',
    async (_what, reply, settings, code) => {
      const { result } = await runOne(settings, reply);
      expect(result.error?.code ?? null).toBe(code);
      expect(result.ok).toBe(code === null);
      if (code) expect(result.error?.phase).toBe('request');
    },
  );

  it('names the rcode and the accepted ones in the message', async () => {
    const { result } = await runOne({}, { rcode: 2 });
    expect(result).toMatchObject({ rcode: 'SERVFAIL' });
    expect(result.error?.message).toBe(`192.0.2.53 answered SERVFAIL for ${NAME} (accepted: NOERROR)`);
  });

  it.each([
    ['A, no answer', {}, {}, 'DNS_NO_DATA'],
    ['A, only a CNAME', {}, { answers: [['CNAME', 'edge.example.']] }, 'DNS_NO_DATA'],
    ['A, one answer', {}, answerA('198.51.100.1'), null],
    ['A, one of min 2', { min_answers: 2 }, answerA('198.51.100.1'), 'DNS_TOO_FEW_ANSWERS'],
    ['A, two of min 2', { min_answers: 2 }, answerA('198.51.100.1', '198.51.100.2'), null],
    ['A, none of min 0', { min_answers: 0 }, {}, null],
    ['AAAA, no answer', { type: 'AAAA' }, {}, 'DNS_NO_DATA'],
    [
      'A, SERVFAIL accepted, none of min 1',
      { accept_rcodes: ['NOERROR', 'SERVFAIL'], min_answers: 1 },
      { rcode: 2 },
      'DNS_TOO_FEW_ANSWERS',
    ],
    ['MX, none (default min 0)', { type: 'MX' }, {}, null],
    ['MX, none of min 1', { type: 'MX', min_answers: 1 }, {}, 'DNS_NO_DATA'],
    ['TXT, one of min 2', { type: 'TXT', min_answers: 2 }, { answers: [['TXT', '"v=spf1"']] }, 'DNS_TOO_FEW_ANSWERS'],
  ] as Array<[string, z.input<typeof dnsSettingsSchema>, Reply, FailureCode | null]>)(
    'counts answers of the queried type: %s',
    async (_what, settings, reply, code) => {
      const { result } = await runOne(settings, reply);
      expect(result.error?.code ?? null).toBe(code);
    },
  );

  it.each([
    ['the same set in another order', ['198.51.100.2', '198.51.100.1'], answerA('198.51.100.1', '198.51.100.2'), null],
    ['one missing', ['198.51.100.1', '198.51.100.2'], answerA('198.51.100.1'), 'DNS_ANSWER_MISMATCH'],
    ['one too many', ['198.51.100.1'], answerA('198.51.100.1', '198.51.100.2'), 'DNS_ANSWER_MISMATCH'],
    ['another address', ['198.51.100.1'], answerA('198.51.100.9'), 'DNS_ANSWER_MISMATCH'],
  ] as Array<[string, string[], Reply, FailureCode | null]>)(
    'compares A answers with expect_answers: %s',
    async (_what, expected, reply, code) => {
      const { result } = await runOne({ expect_answers: expected }, reply);
      expect(result.error?.code ?? null).toBe(code);
    },
  );

  it('compares names in expect_answers without their trailing dot, other types ignored', async () => {
    const reply: Reply = {
      answers: [
        ['MX', '10 mx1.example.'],
        ['MX', '20 mx2.example.'],
        ['A', '198.51.100.1'],
      ],
    };
    const ok = await runOne({ type: 'MX', expect_answers: ['20 mx2.example', '10 mx1.example.'] }, reply);
    expect(ok.result.ok).toBe(true);
    const bad = await runOne({ type: 'MX', expect_answers: ['10 mx1.example'] }, reply);
    expect(bad.result.error).toEqual({
      code: 'DNS_ANSWER_MISMATCH',
      message: '192.0.2.53 answered [10 mx1.example, 20 mx2.example], expected [10 mx1.example]',
      phase: 'request',
    });
  });

  it.each([
    ['every answer matches', answerA('198.51.100.1', '198.51.100.200'), null],
    ['one answer does not', answerA('198.51.100.1', '203.0.113.1'), '203.0.113.1'],
  ])('checks every answer against expect_regex: %s', async (_what, reply, bad) => {
    const { result } = await runOne({ expect_regex: '^198\\.51\\.100\\.' }, reply);
    expect(result.error).toEqual(
      bad === null
        ? null
        : {
            code: 'DNS_ANSWER_MISMATCH',
            message: `192.0.2.53 answered ${bad}, which does not match /^198\\.51\\.100\\./`,
            phase: 'request',
          },
    );
  });

  it('validates before it looks for a hijack: a bad rcode or answer set is not called a hijack', async () => {
    const hijackish = { expect: '198.51.100.0/24', hijack: { bogons: true } };
    const servfail = await runOne(hijackish, { rcode: 2 });
    expect(servfail.result).toMatchObject({ error: { code: 'DNS_RCODE' }, hijack: null });
    const mismatch = await runOne({ ...hijackish, expect_answers: ['198.51.100.1'] }, answerA('10.0.0.1'));
    expect(mismatch.result).toMatchObject({ error: { code: 'DNS_ANSWER_MISMATCH' }, hijack: null });
  });
});

describe('dns check: hijack detection', () => {
  it.each([
    ['10.1.2.3', true],
    ['100.64.0.1', true],
    ['192.168.1.1', true],
    ['198.18.0.1', true],
    ['198.19.255.255', true],
    ['192.0.2.1', true],
    ['fd00::1', true],
    ['::ffff:10.0.0.1', true],
    ['8.8.8.8', false],
    ['198.20.0.1', false],
    ['2606:4700::1111', false],
  ])('with hijack.bogons, %s is a bogon: %s', async (address, bogon) => {
    const type = address.includes(':') ? 'AAAA' : 'A';
    const { result } = await runOne({ type, hijack: { bogons: true } }, { answers: [[type, address]] });
    expect(result.ok).toBe(!bogon);
    expect(result.hijack).toEqual(
      bogon ? { reason: 'bogon_answer', expected: ['public addresses'], got: [address] } : null,
    );
    if (bogon) expect(result.error).toMatchObject({ code: 'DNS_HIJACK_BOGON', phase: 'request' });
  });

  it('accepts private answers when bogons are not asked about', async () => {
    const { result } = await runOne({}, answerA('10.1.2.3'));
    expect(result).toMatchObject({ ok: true, hijack: null });
  });

  it.each([
    [['198.51.100.0/24'], ['198.51.100.1', '198.51.100.7'], true],
    [['198.51.100.0/24'], ['198.51.100.1', '203.0.113.7'], false],
    [['198.51.100.1'], ['198.51.100.1'], true],
    [['198.51.100.1'], ['198.51.100.2'], false],
    [['198.51.100.0/25', '203.0.113.0/24'], ['198.51.100.1', '203.0.113.200'], true],
    [['198.51.100.0/25'], ['198.51.100.128'], false],
  ])('with expect %j, answers %j are where expected: %s', async (ranges, answers, inside) => {
    const { result } = await runOne({ expect: ranges }, answerA(...answers));
    expect(result.ok).toBe(inside);
    expect(result.hijack).toEqual(inside ? null : { reason: 'unexpected_answer', expected: ranges, got: answers });
    if (!inside) expect(result.error?.code).toBe('DNS_HIJACK_UNEXPECTED_ANSWER');
  });

  it('checks IPv6 answers against IPv6 ranges', async () => {
    const inside = await runOne({ type: 'AAAA', expect: '2001:db8:1::/48' }, { answers: [['AAAA', '2001:db8:1::5']] });
    expect(inside.result.ok).toBe(true);
    const outside = await runOne({ type: 'AAAA', expect: '2001:db8:1::/48' }, { answers: [['AAAA', '2001:db8:2::5']] });
    expect(outside.result.error?.code).toBe('DNS_HIJACK_UNEXPECTED_ANSWER');
  });

  it('names a bogon before an unexpected answer when both hold', async () => {
    const { result } = await runOne({ expect: '198.51.100.0/24', hijack: { bogons: true } }, answerA('10.0.0.1'));
    expect(result).toMatchObject({ error: { code: 'DNS_HIJACK_BOGON' }, hijack: { reason: 'bogon_answer' } });
  });

  it('flags the resolver that disagrees with the reference (both answer sets), not the one that agrees', async () => {
    const { port, requests } = dnsPort((req) =>
      req.server.address === '192.0.2.66' ? answerA('203.0.113.66') : answerA('198.51.100.1'),
    );
    const results = await run(
      spec({ resolver: ['192.0.2.53', '192.0.2.66'], hijack: { reference: '192.0.2.53' } }),
      fakeNet({ dns: port }),
    );
    expect(results.map((r) => [r.resolver, r.ok, r.error?.code ?? null, r.hijack])).toEqual([
      ['192.0.2.53', true, null, null],
      [
        '192.0.2.66',
        false,
        'DNS_HIJACK_DISAGREEMENT',
        { reason: 'resolver_disagreement', expected: ['198.51.100.1'], got: ['203.0.113.66'] },
      ],
    ]);
    // The reference is one of the checked resolvers: asked once, not twice.
    expect(requests.map((r) => r.server.address).sort()).toEqual(['192.0.2.53', '192.0.2.66']);
  });

  it('asks a reference that is not a checked resolver as well, and gives it no record', async () => {
    const { port, requests } = dnsPort(() => answerA('198.51.100.1'));
    const results = await run(
      spec({ resolver: '192.0.2.53', hijack: { reference: 'tls://192.0.2.1#ref.example' } }),
      fakeNet({ dns: port }),
    );
    expect(results.map((r) => r.resolver)).toEqual(['192.0.2.53']);
    expect(results[0]!.ok).toBe(true);
    expect(requests.map((r) => [r.server.transport, r.server.address])).toEqual([
      ['udp', '192.0.2.53'],
      ['tls', '192.0.2.1'],
    ]);
  });

  it.each([
    [0, 0.5, false],
    [0.49, 0.5, false],
    [0.5, 0.5, true],
    [1, 1, true],
  ])('with tolerance %s, a disagreement of %s passes: %s', async (tolerance, _fraction, passes) => {
    // Two answers, one of which the reference does not have: half of the answers disagree.
    const { port } = dnsPort((req) =>
      req.server.address === '192.0.2.1' ? answerA('198.51.100.1') : answerA('198.51.100.1', '203.0.113.1'),
    );
    const [result] = await run(
      spec({ resolver: '192.0.2.53', hijack: { reference: '192.0.2.1', tolerance } }),
      fakeNet({ dns: port }),
    );
    expect(result!.ok).toBe(passes);
    if (!passes) expect(result!.error?.code).toBe('DNS_HIJACK_DISAGREEMENT');
  });

  it('passes judgement on nothing when the reference gives no answer at all', async () => {
    const { port } = dnsPort((req) =>
      req.server.address === '192.0.2.1' ? new CheckFailure('DNS_TIMEOUT', 'silent', 'request') : answerA('203.0.1.1'),
    );
    const [result] = await run(
      spec({ resolver: '192.0.2.53', hijack: { reference: '192.0.2.1' } }),
      fakeNet({ dns: port }),
    );
    expect(result).toMatchObject({ ok: true, hijack: null });
  });

  it.each([
    ['an address instead of NXDOMAIN', { rcode: 0, ...answerA('203.0.113.80') }, true],
    ['NXDOMAIN', { rcode: 3 }, false],
    ['NOERROR without answers', { rcode: 0 }, false],
    ['no answer at all', new CheckFailure('DNS_TIMEOUT', 'silent', 'request'), false],
  ] as Array<[string, Reply | Error, boolean]>)(
    'with nxdomain_probe, asks the same resolver for a random label under the name; %s is a rewrite: %s',
    async (_what, probeReply, rewrite) => {
      const { port, requests } = dnsPort((req) =>
        req.name.startsWith('vantage-nx-') ? probeReply : answerA('198.51.100.1'),
      );
      const [result] = await run(
        spec({ resolver: 'tcp://192.0.2.53', hijack: { nxdomain_probe: true } }),
        fakeNet({ dns: port }),
      );
      expect(requests.map((r) => [r.server.transport, r.server.address])).toEqual([
        ['tcp', '192.0.2.53'],
        ['tcp', '192.0.2.53'],
      ]);
      const probeName = requests[1]!.name;
      expect(probeName).toMatch(new RegExp(`^vantage-nx-[0-9a-f]{8}\\.${NAME.replace('.', '\\.')}$`));
      expect(result!.ok).toBe(!rewrite);
      expect(result!.hijack).toEqual(
        rewrite ? { reason: 'nxdomain_rewrite', expected: [`NXDOMAIN for ${probeName}`], got: ['203.0.113.80'] } : null,
      );
      if (rewrite) expect(result!.error?.code).toBe('DNS_HIJACK_NXDOMAIN_REWRITE');
    },
  );

  it('sends no NXDOMAIN probe when cache-busting (the queried name is random already)', async () => {
    const { requests } = await runOne({ cache_bust: true, hijack: { nxdomain_probe: true } }, { rcode: 3 });
    expect(requests).toHaveLength(1);
  });
});

describe('dns check: cache busting', () => {
  it('queries a fresh random label under the name on every run', async () => {
    const { port, requests } = dnsPort(() => ({ rcode: 3 }));
    const check = dnsKind.create(spec({ resolver: '192.0.2.53', cache_bust: true }), fakeNet({ dns: port }));
    const ctx = { signal: new AbortController().signal, clock: new FakeClock(), log };
    const [first] = await check.run(ctx);
    await check.run(ctx);
    const names = requests.map((r) => r.name);
    expect(names[0]).toMatch(/^vb-[0-9a-f]{8}\.www\.example$/);
    expect(names[1]).toMatch(/^vb-[0-9a-f]{8}\.www\.example$/);
    expect(names[1]).not.toBe(names[0]);
    expect(first).toMatchObject({ ok: true, query: names[0], rcode: 'NXDOMAIN', cnameChain: [names[0]] });
  });
});

describe("dns check: the target's address book", () => {
  const v4 = (...addresses: string[]) => addresses.map((address) => ({ address, family: 4 }));

  it("publishes the first passing resolver's addresses for one interval plus the timeout", async () => {
    const clock = new FakeClock();
    const addressBook = new AddressBook(() => clock.wallMs());
    const { port } = dnsPort((req) =>
      req.server.address === '192.0.2.53'
        ? { rcode: 2 }
        : req.server.address === '192.0.2.54'
          ? answerA('198.51.100.1', '198.51.100.2')
          : answerA('198.51.100.3'),
    );
    await run(
      spec({ resolver: ['192.0.2.53', '192.0.2.54', '192.0.2.55'] }, { timeoutMs: 5_000 }),
      fakeNet({ dns: port, addressBook }),
      clock,
    );
    expect(addressBook.lookup('www', 'ipv4')).toEqual({
      addresses: v4('198.51.100.1', '198.51.100.2'),
      source: 'dns check www-dns via 192.0.2.54',
    });
    expect(addressBook.lookup('www', 'ipv6')).toBeUndefined();
    await clock.advance(35_000);
    expect(addressBook.lookup('www', 'ipv4')).toBeDefined();
    await clock.advance(1);
    expect(addressBook.lookup('www', 'ipv4')).toBeUndefined();
  });

  it('publishes AAAA answers as IPv6, for a minute plus the timeout under a cron schedule', async () => {
    const clock = new FakeClock();
    const addressBook = new AddressBook(() => clock.wallMs());
    const { port } = dnsPort(() => ({ answers: [['AAAA', '2001:db8::1']] }));
    await run(
      spec(
        { resolver: '192.0.2.53', type: 'AAAA' },
        { schedule: { type: 'cron', expression: '*/5 * * * *' }, timeoutMs: 2_000 },
      ),
      fakeNet({ dns: port, addressBook }),
      clock,
    );
    expect(addressBook.lookup('www', 'ipv6')?.addresses).toEqual([{ address: '2001:db8::1', family: 6 }]);
    await clock.advance(62_000);
    expect(addressBook.lookup('www', 'ipv6')).toBeDefined();
    await clock.advance(1);
    expect(addressBook.lookup('www', 'ipv6')).toBeUndefined();
  });

  it('skips a hijacked resolver and publishes the next one', async () => {
    const addressBook = new AddressBook(() => Date.UTC(2026, 0, 1));
    const { port } = dnsPort((req) =>
      req.server.address === '192.0.2.53' ? answerA('203.0.113.66') : answerA('198.51.100.1'),
    );
    await run(
      spec({ resolver: ['192.0.2.53', '192.0.2.54'], expect: '198.51.100.0/24' }),
      fakeNet({ dns: port, addressBook }),
    );
    expect(addressBook.lookup('www', 'ipv4')).toMatchObject({ addresses: v4('198.51.100.1') });
  });

  it.each([
    ['every resolver failed', { resolver: '192.0.2.53', accept_rcodes: ['NXDOMAIN'] }],
    ['a cache-busting check (the random name is not the target)', { resolver: '192.0.2.53', cache_bust: true }],
    ['a query of another type', { resolver: '192.0.2.53', type: 'CNAME' }],
  ] as Array<[string, z.input<typeof dnsSettingsSchema>]>)('publishes nothing for %s', async (_what, settings) => {
    const addressBook = new AddressBook(() => Date.UTC(2026, 0, 1));
    const { port } = dnsPort(() => answerA('198.51.100.1'));
    await run(spec(settings), fakeNet({ dns: port, addressBook }));
    expect(addressBook.lookup('www', 'ipv4')).toBeUndefined();
  });
});
