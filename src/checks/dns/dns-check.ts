import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { elapsedMs } from '../../clock.js';
import { CheckFailure } from '../../errors.js';
import type { DnsExchange } from '../../net/dns/dns-client.js';
import { rcodeName } from '../../net/dns/dns-message.js';
import type { NetDeps } from '../../net/net-deps.js';
import { readPemFile } from '../../settings/pem-file.js';
import type { Check, CheckResult, CheckSpec, RunContext } from '../check.js';
import { asFailure, baseResult } from '../per-ip.js';
import { cidrMatcher, disagreement, isBogon } from './answer-checks.js';
import type { DnsFields, DnsSettings, HijackEvidence } from './dns-settings.js';
import { parseResolver } from './resolver-spec.js';
import type { ResolverSpec } from './resolver-spec.js';

type Outcome = {
  fields: Omit<DnsFields, 'hijack' | 'answersChanged'>;
  phasesMs: Record<string, number>;
  /** When the answer was in: the record's duration ends there, before validation and hijack checks. */
  endNs: bigint;
};

/** One resolver's query under way, and when it started (the record's duration starts there). */
type Asked = { startNs: bigint; outcome: Promise<Outcome> };

/**
 * DNS check: the name asked of every configured resolver (the system resolver, plain UDP/TCP
 * servers, DoT, DoH), one record each, with rcode, flags, answers, the CNAME chain and who
 * answered. Beyond "does it resolve": hijack detection by expected ranges, a reference resolver,
 * an NXDOMAIN probe and bogon answers, each with its own code and both answer sets as evidence.
 */
export class DnsCheck implements Check<DnsFields> {
  private readonly resolvers: ResolverSpec[];
  private readonly lastAnswers = new Map<string, string>();
  private readonly ca: string | undefined;
  private readonly inExpectedRanges: ((address: string) => boolean) | undefined;
  private readonly reference: ResolverSpec | undefined;
  private readonly expectRegex: RegExp | undefined;
  private readonly expectedAnswers: string | undefined;

  constructor(
    readonly spec: CheckSpec<DnsSettings>,
    private readonly net: NetDeps,
  ) {
    this.resolvers = spec.settings.resolver.map((r) => parseResolver(r) as ResolverSpec);
    this.ca = spec.settings.ca_file ? readPemFile(spec.settings.ca_file, 'certificates') : undefined;
    this.inExpectedRanges = spec.settings.expect ? cidrMatcher(spec.settings.expect) : undefined;
    this.reference = spec.settings.hijack.reference
      ? (parseResolver(spec.settings.hijack.reference) as ResolverSpec)
      : undefined;
    this.expectRegex = spec.settings.expect_regex ? new RegExp(spec.settings.expect_regex) : undefined;
    this.expectedAnswers = spec.settings.expect_answers
      ?.map((a) => a.replace(/\.$/, ''))
      .sort()
      .join('\n');
  }

  async run(ctx: RunContext): Promise<CheckResult<DnsFields>[]> {
    await this.net.ready?.();
    const s = this.spec.settings;
    const name = s.cache_bust ? `vb-${randomLabel()}.${this.spec.target.host}` : this.spec.target.host;
    const asks = this.resolvers.map((resolver): Asked => {
      const startNs = ctx.clock.monotonicNs();
      return { startNs, outcome: this.ask(ctx, resolver, name, startNs) };
    });
    // A reference that is also one of the checked resolvers is asked once, not twice.
    const listed = this.reference ? this.resolvers.findIndex((r) => r.label === this.reference!.label) : -1;
    const reference = this.reference
      ? (listed >= 0 ? asks[listed]!.outcome : this.ask(ctx, this.reference, name)).catch(() => undefined)
      : undefined;
    const results = await Promise.all(
      this.resolvers.map((resolver, i) => this.checkResolver(ctx, resolver, name, asks[i]!, reference)),
    );
    // The first resolver (in config order) that passed tells the target's other checks what to probe.
    const trusted = results.find((r) => r.ok && (r.addresses?.length ?? 0) > 0);
    if (trusted && !s.cache_bust && (s.type === 'A' || s.type === 'AAAA')) {
      const validForMs = this.spec.schedule.type === 'interval' ? this.spec.schedule.intervalMs : 60_000;
      this.net.addressBook?.publish(
        this.spec.target.name,
        s.type === 'A' ? 4 : 6,
        trusted.addresses ?? [],
        validForMs + this.spec.timeoutMs,
        `dns check ${this.spec.name} via ${trusted.resolver}`,
      );
    }
    return results;
  }

  private async checkResolver(
    ctx: RunContext,
    resolver: ResolverSpec,
    name: string,
    asked: Asked,
    reference: Promise<Outcome | undefined> | undefined,
  ): Promise<CheckResult<DnsFields>> {
    const base = baseResult(
      this.spec,
      ctx.clock.wallMs(),
      resolver.kind === 'server' && isIP(resolver.host) ? resolver.host : undefined,
    );
    const empty: DnsFields = {
      resolver: resolver.label,
      transport: resolver.kind === 'system' ? 'system' : resolver.transport,
      server: '',
      query: name,
      queryType: this.spec.settings.type,
      rcode: '',
      flags: null,
      answers: [],
      cnameChain: [],
      addresses: [],
      authorityCount: 0,
      additionalCount: 0,
      hijack: null,
      answersChanged: false,
    };
    let outcome: Outcome;
    try {
      outcome = await asked.outcome;
    } catch (err) {
      const failure = asFailure(err, 'request');
      const durationMs = elapsedMs(asked.startNs, ctx.clock.monotonicNs());
      return { ...base, ...empty, error: failure.toCheckError(), durationMs, phasesMs: { request: durationMs } };
    }
    const problem = this.validate(outcome) ?? (await this.detectHijack(ctx, resolver, outcome, reference));
    const hijack = problem && 'reason' in problem ? problem : null;
    const failure =
      problem instanceof CheckFailure ? problem : hijack ? hijackFailure(hijack, resolver.label) : undefined;
    const answerKey = [...outcome.fields.answers.map((a) => `${a.type} ${a.data}`)].sort().join('\n');
    const previous = this.lastAnswers.get(resolver.label);
    this.lastAnswers.set(resolver.label, answerKey);
    return {
      ...base,
      ...outcome.fields,
      hijack,
      answersChanged: previous !== undefined && previous !== answerKey,
      ok: !failure,
      error: failure ? failure.toCheckError() : null,
      durationMs: elapsedMs(asked.startNs, outcome.endNs),
      phasesMs: outcome.phasesMs,
    };
  }

  /** One query to one resolver. Throws `CheckFailure` when there is no usable answer at all. */
  private async ask(
    ctx: RunContext,
    resolver: ResolverSpec,
    name: string,
    startNs = ctx.clock.monotonicNs(),
  ): Promise<Outcome> {
    const type = this.spec.settings.type;
    if (resolver.kind === 'system') {
      // No addresses (and no throw) is the resolver's NODATA: the name exists, without this type.
      const found = await this.net.resolver.resolve(name, type === 'AAAA' ? 'ipv6' : 'ipv4', ctx.signal);
      const endNs = ctx.clock.monotonicNs();
      const addresses = found.map((a) => a.address);
      return {
        fields: {
          resolver: 'system',
          transport: 'system',
          server: 'system',
          query: name,
          queryType: type,
          rcode: 'NOERROR',
          flags: null,
          answers: addresses.map((data) => ({ name, type, data, ttl: 0 })),
          cnameChain: [name],
          addresses,
          authorityCount: 0,
          additionalCount: 0,
        },
        phasesMs: { request: elapsedMs(startNs, endNs) },
        endNs,
      };
    }
    let address = resolver.host;
    const phasesMs: Record<string, number> = {};
    if (isIP(address) === 0) {
      const found = (await this.net.resolver.resolve(resolver.host, 'any', ctx.signal))[0];
      if (!found) throw new CheckFailure('DNS_NO_ADDRESS', `resolver ${resolver.host} has no address`, 'resolve');
      address = found.address;
      phasesMs.resolve = elapsedMs(startNs, ctx.clock.monotonicNs());
    }
    const exchange: DnsExchange = await this.net.dns.query({
      server: {
        transport: resolver.transport,
        address,
        port: resolver.port,
        ...(resolver.serverName ? { serverName: resolver.serverName } : {}),
        ...(resolver.path ? { path: resolver.path } : {}),
        ...(this.ca ? { ca: this.ca } : {}),
      },
      name,
      type,
      ...(this.spec.settings.udp_size > 0 ? { ednsUdpSize: this.spec.settings.udp_size } : {}),
      signal: ctx.signal,
    });
    const endNs = ctx.clock.monotonicNs();
    const m = exchange.message;
    const answers = m.answers.map((a) => ({ name: a.name, type: a.type, data: a.data, ttl: a.ttl }));
    const cnameChain = [name, ...answers.filter((a) => a.type === 'CNAME').map((a) => a.data.replace(/\.$/, ''))];
    return {
      fields: {
        resolver: resolver.label,
        transport: exchange.transport,
        server: exchange.server,
        query: name,
        queryType: type,
        rcode: rcodeName(m.rcode),
        flags: { aa: m.flags.aa, tc: m.flags.tc, ra: m.flags.ra, ad: m.flags.ad },
        answers,
        cnameChain,
        addresses: answers.filter((a) => a.type === 'A' || a.type === 'AAAA').map((a) => a.data),
        authorityCount: m.authorities.length,
        additionalCount: m.additionals.length,
      },
      phasesMs: { ...phasesMs, ...exchange.phasesMs },
      endNs,
    };
  }

  /** Response code, count, exact set and regex: plain validation, before any hijack question. */
  private validate(outcome: Outcome): CheckFailure | undefined {
    const s = this.spec.settings;
    const f = outcome.fields;
    const accepted = s.cache_bust ? [...s.accept_rcodes, 'NXDOMAIN'] : s.accept_rcodes;
    if (!accepted.includes(f.rcode)) {
      const code = f.rcode === 'NXDOMAIN' ? 'DNS_NXDOMAIN' : 'DNS_RCODE';
      return new CheckFailure(
        code,
        `${f.resolver} answered ${f.rcode} for ${f.query} (accepted: ${accepted.join(', ')})`,
        'request',
      );
    }
    const ofType = f.answers.filter((a) => a.type === s.type);
    const minimum = s.min_answers ?? (!s.cache_bust && (s.type === 'A' || s.type === 'AAAA') ? 1 : 0);
    if (ofType.length < minimum) {
      if (ofType.length === 0 && f.rcode === 'NOERROR')
        return new CheckFailure(
          'DNS_NO_DATA',
          `${f.query} exists but has no ${s.type} records (${f.resolver}), expected at least ${minimum}`,
          'request',
        );
      return new CheckFailure(
        'DNS_TOO_FEW_ANSWERS',
        `${f.resolver} gave ${ofType.length} ${s.type} answer(s) for ${f.query}, expected at least ${minimum}`,
        'request',
      );
    }
    if (this.expectedAnswers !== undefined) {
      const got = ofType.map((a) => a.data.replace(/\.$/, '')).sort();
      if (got.join('\n') !== this.expectedAnswers)
        return new CheckFailure(
          'DNS_ANSWER_MISMATCH',
          `${f.resolver} answered [${got.join(', ')}], expected [${this.expectedAnswers.split('\n').join(', ')}]`,
          'request',
        );
    }
    if (this.expectRegex && s.expect_regex) {
      const re = this.expectRegex;
      const bad = ofType.find((a) => !re.test(a.data));
      if (bad)
        return new CheckFailure(
          'DNS_ANSWER_MISMATCH',
          `${f.resolver} answered ${bad.data}, which does not match /${s.expect_regex}/`,
          'request',
        );
    }
    return undefined;
  }

  private async detectHijack(
    ctx: RunContext,
    resolver: ResolverSpec,
    outcome: Outcome,
    reference: Promise<Outcome | undefined> | undefined,
  ): Promise<HijackEvidence | undefined> {
    const s = this.spec.settings;
    const got = outcome.fields.addresses;
    if (s.hijack.bogons) {
      const bogus = got.filter(isBogon);
      if (bogus.length > 0) return { reason: 'bogon_answer', expected: ['public addresses'], got };
    }
    if (this.inExpectedRanges && got.some((a) => !this.inExpectedRanges!(a))) {
      return { reason: 'unexpected_answer', expected: [...(s.expect ?? [])], got };
    }
    const ref = reference ? await reference : undefined;
    if (ref && disagreement(got, ref.fields.addresses) > s.hijack.tolerance) {
      return { reason: 'resolver_disagreement', expected: ref.fields.addresses, got };
    }
    if (s.hijack.nxdomain_probe && !s.cache_bust) {
      const probeName = `vantage-nx-${randomLabel()}.${this.spec.target.host}`;
      try {
        const nx = await this.ask(ctx, resolver, probeName);
        if (nx.fields.rcode !== 'NXDOMAIN' && nx.fields.answers.length > 0) {
          return {
            reason: 'nxdomain_rewrite',
            expected: [`NXDOMAIN for ${probeName}`],
            got: nx.fields.answers.map((a) => a.data),
          };
        }
      } catch {
        // The probe itself failing says nothing about rewriting.
      }
    }
    return undefined;
  }
}

const HIJACK_CODES = {
  unexpected_answer: 'DNS_HIJACK_UNEXPECTED_ANSWER',
  resolver_disagreement: 'DNS_HIJACK_DISAGREEMENT',
  nxdomain_rewrite: 'DNS_HIJACK_NXDOMAIN_REWRITE',
  bogon_answer: 'DNS_HIJACK_BOGON',
} as const;

function hijackFailure(h: HijackEvidence, resolver: string): CheckFailure {
  return new CheckFailure(
    HIJACK_CODES[h.reason],
    `${resolver}: ${h.reason.replace('_', ' ')}: got [${h.got.join(', ')}], expected [${h.expected.join(', ')}]`,
    'request',
  );
}

/** Eight hex digits for a name no cache holds. */
function randomLabel(): string {
  return randomBytes(4).toString('hex');
}
