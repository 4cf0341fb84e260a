import { elapsedMs } from '../../clock.js';
import { CheckFailure } from '../../errors.js';
import { HttpsFailure } from '../../net/http/https-failure.js';
import type { HttpsExchange } from '../../net/http/https-client.js';
import type { NetDeps } from '../../net/net-deps.js';
import type { Check, CheckResult, CheckSpec, CoreResult, RunContext } from '../check.js';
import { asFailure, runPerIp } from '../per-ip.js';
import type { IpProbe } from '../per-ip.js';
import type { HttpsFields, HttpsSettings, RedirectHop } from './https-settings.js';
import { stripBrackets } from '../../net/address.js';
import { readPemFile } from '../../settings/pem-file.js';
import { redirectTarget } from './redirect-target.js';

/** Cumulative stamps of the exchange, in order: each phase is the gap to the previous one. */
const STAMPS = ['connect', 'tls', 'request', 'firstByte', 'headers', 'transfer'] as const;

/**
 * HTTPS check: every resolved IP on a fresh connection, the host name kept for SNI and Host, with
 * exact phases (dns, connect, tls, request, firstByte, headers, transfer, total), TLS facts
 * (version, cipher, ALPN, verification, earliest expiry in the chain), redirects followed and
 * recorded, and status/body/header validation. A bad certificate is a result with its code.
 */
export class HttpsCheck implements Check<HttpsFields> {
  private readonly url: URL;
  private readonly ca?: string;
  private readonly clientCert?: { cert: string; key: string };
  private readonly bodyRegex: RegExp | undefined;
  private readonly headerRegex: RegExp | undefined;

  constructor(
    readonly spec: CheckSpec<HttpsSettings>,
    private readonly net: NetDeps,
  ) {
    this.url = new URL(
      spec.target.url ?? `https://${spec.target.host.includes(':') ? `[${spec.target.host}]` : spec.target.host}/`,
    );
    const s = spec.settings;
    // Checked when the settings were parsed; read again here with the same bound (and cache).
    if (s.ca_file) this.ca = readPemFile(s.ca_file, 'certificates');
    if (s.client_cert_file && s.client_key_file)
      this.clientCert = {
        cert: readPemFile(s.client_cert_file, 'certificates'),
        key: readPemFile(s.client_key_file, 'private-key'),
      };
    this.bodyRegex = s.body_regex ? new RegExp(s.body_regex) : undefined;
    this.headerRegex = s.header_regex ? new RegExp(s.header_regex, 'i') : undefined;
  }

  run(ctx: RunContext): Promise<CheckResult<HttpsFields>[]> {
    return runPerIp<HttpsFields>(this.spec, this.net, ctx, (target, base) => this.fetchOne(ctx, target, base));
  }

  private async fetchOne(ctx: RunContext, target: IpProbe, base: CoreResult): Promise<CheckResult<HttpsFields>> {
    const s = this.spec.settings;
    const redirects: RedirectHop[] = [];
    let url = this.url;
    let ip = target.address.address;
    const fields = (x: Partial<HttpsExchange> = {}): HttpsFields => ({
      url: url.href,
      status: x.status ?? 0,
      httpVersion: x.httpVersion ?? null,
      tls: x.tls ?? null,
      redirects,
      contentLength: x.bodyBytes ?? null,
    });
    const phases = (x: Record<string, number>): Record<string, number> => {
      const out: Record<string, number> = { dns: target.resolveMs };
      let previous = 0;
      for (const name of STAMPS) {
        if (x[name] === undefined) continue;
        out[name] = x[name]! - previous;
        previous = x[name]!;
      }
      out.total = elapsedMs(target.runStartNs, ctx.clock.monotonicNs());
      return out;
    };
    for (;;) {
      const hopStart = ctx.clock.monotonicNs();
      let exchange: HttpsExchange;
      try {
        exchange = await this.net.https.exchange({
          url,
          ip,
          method: s.method,
          headers: s.headers,
          ...(s.body !== undefined ? { body: s.body } : {}),
          httpVersion: s.http_version,
          maxBodyBytes: s.max_body_bytes,
          ...(this.ca ? { ca: this.ca } : {}),
          ...(this.clientCert ? { clientCert: this.clientCert } : {}),
          ...(s.source_address ? { sourceAddress: s.source_address } : {}),
          signal: ctx.signal,
        });
      } catch (err) {
        const failure = asFailure(err, 'request');
        const partial = err instanceof HttpsFailure ? err : undefined;
        const result = {
          ...base,
          ...fields({ tls: partial?.tls ?? null }),
          error: failure.toCheckError(),
          durationMs: elapsedMs(target.runStartNs, ctx.clock.monotonicNs()),
          phasesMs: phases(partial?.phasesMs ?? {}),
        };
        return result;
      }
      const location = exchange.headers.location;
      if (s.follow_redirects && exchange.status >= 300 && exchange.status < 400 && typeof location === 'string') {
        redirects.push({
          url: url.href,
          status: exchange.status,
          ip,
          durationMs: elapsedMs(hopStart, ctx.clock.monotonicNs()),
        });
        if (redirects.length > s.max_redirects) {
          return this.finished(
            base,
            target,
            ctx,
            fields(exchange),
            phases(exchange.phasesMs),
            new CheckFailure(
              'HTTP_TOO_MANY_REDIRECTS',
              `more than ${s.max_redirects} redirects from ${this.url.href}`,
              'redirect',
            ),
          );
        }
        const next = redirectTarget(location, url);
        if (next instanceof CheckFailure)
          return this.finished(base, target, ctx, fields(exchange), phases(exchange.phasesMs), next);
        if (next.hostname !== url.hostname) {
          // The next host in the family of the IP being probed; none is a failure, never the old IP.
          const family = target.address.family === 6 ? 'ipv6' : 'ipv4';
          const host = stripBrackets(next.hostname);
          try {
            const found = await this.net.resolver.resolve(host, family, ctx.signal);
            if (!found[0]) {
              throw new CheckFailure(
                'DNS_NO_ADDRESS',
                `${host} (redirected to from ${url.href}) has no ${family} address to follow the redirect from ${ip}`,
                'resolve',
              );
            }
            ip = found[0].address;
          } catch (err) {
            return this.finished(
              base,
              target,
              ctx,
              fields(exchange),
              phases(exchange.phasesMs),
              asFailure(err, 'redirect'),
            );
          }
        }
        url = next;
        continue;
      }
      return this.finished(base, target, ctx, fields(exchange), phases(exchange.phasesMs), this.validate(exchange));
    }
  }

  private finished(
    base: CoreResult,
    target: IpProbe,
    ctx: RunContext,
    f: HttpsFields,
    phasesMs: Record<string, number>,
    failure: CheckFailure | undefined,
  ): CheckResult<HttpsFields> {
    return {
      ...base,
      ...f,
      ok: !failure,
      error: failure ? failure.toCheckError() : null,
      durationMs: elapsedMs(target.runStartNs, ctx.clock.monotonicNs()),
      phasesMs,
    };
  }

  private validate(x: HttpsExchange): CheckFailure | undefined {
    const s = this.spec.settings;
    if (!s.accept_status.some((rule) => statusMatches(rule, x.status))) {
      return new CheckFailure(
        'HTTP_STATUS',
        `${this.url.href} answered ${x.status} (accepted: ${s.accept_status.join(', ')})`,
        'response',
      );
    }
    if (x.bodyTruncated) {
      const declared = x.headers['content-length'];
      return new CheckFailure(
        'HTTP_BODY_TOO_LARGE',
        `body larger than max_body_bytes ${s.max_body_bytes}` +
          (declared !== undefined ? ` (Content-Length ${declared.slice(0, 40)})` : '') +
          `: reading stopped after ${x.bodyBytes} bytes and the connection was closed`,
        'transfer',
      );
    }
    if (x.bodyBytes > s.max_body_bytes)
      return new CheckFailure(
        'HTTP_BODY_TOO_LARGE',
        `body of ${x.bodyBytes} bytes, more than max_body_bytes ${s.max_body_bytes}`,
        'transfer',
      );
    if (this.bodyRegex && !this.bodyRegex.test(x.body.toString('utf8'))) {
      return new CheckFailure('HTTP_BODY_MISMATCH', `the body does not match /${s.body_regex}/`, 'transfer');
    }
    const re = this.headerRegex;
    if (re) {
      const lines = Object.entries(x.headers).flatMap(([k, v]) =>
        (Array.isArray(v) ? v : [v]).map((one) => `${k}: ${one ?? ''}`),
      );
      if (!lines.some((l) => re.test(l)))
        return new CheckFailure('HTTP_HEADER_MISMATCH', `no header matches /${s.header_regex}/`, 'headers');
    }
    return undefined;
  }
}

export function statusMatches(rule: number | string, status: number): boolean {
  if (typeof rule === 'number') return status === rule;
  if (/^[1-5]xx$/.test(rule)) return Math.floor(status / 100) === Number(rule[0]);
  const [low, high = low] = rule.split('-').map(Number);
  return status >= low! && status <= high!;
}
