import * as z from 'zod';
import { pemFileSchema } from '../../settings/pem-file.js';
import { regexSchema } from '../../settings/user-regex.js';
import type { DnsRecord } from '../../net/dns/dns-message.js';
import { parseCidr } from './answer-checks.js';
import { parseResolver } from './resolver-spec.js';

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as Array<z.infer<T>>);

const resolverSchema = z.string().superRefine((text, ctx) => {
  const parsed = parseResolver(text);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

const cidrSchema = z.string().superRefine((text, ctx) => {
  const parsed = parseCidr(text);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SOA', 'PTR', 'SRV', 'CAA'] as const;

export const dnsSettingsSchema = z.strictObject({
  /**
   * Resolvers to ask, each giving its own record: `system` (default), IP[:PORT], udp://, tcp://,
   * tls://IP#NAME, https://HOST/PATH.
   */
  resolver: oneOrMany(resolverSchema).default(['system']),
  /** Record type to query. Default A. `system` answers A and AAAA only. */
  type: z.enum(RECORD_TYPES).default('A'),
  /** Send EDNS (OPT) advertising this UDP payload size; 0 for plain DNS. Default 1232. */
  udp_size: z.number().int().min(0).max(65_535).default(1232),
  /** PEM file of extra CAs to trust for tls:// and https:// resolvers; checked at load, at most 1 MiB. */
  ca_file: pemFileSchema('certificates').optional(),
  /** Response codes that count as success. Default [NOERROR]. */
  accept_rcodes: z.array(z.string().toUpperCase()).min(1).default(['NOERROR']),
  /** Every A/AAAA answer must lie in one of these ranges; otherwise: hijack (unexpected answer). */
  expect: oneOrMany(cidrSchema).optional(),
  /** The answer data must be exactly this set (any type). */
  expect_answers: z.array(z.string()).optional(),
  /** Every answer's data must match this regular expression. */
  expect_regex: regexSchema('expect_regex').optional(),
  /** At least this many answers (of the queried type). Default 1 for A/AAAA queries, else 0. */
  min_answers: z.number().int().min(0).optional(),
  /** Query a fresh random label under the name, to time an uncached resolution (NXDOMAIN accepted). */
  cache_bust: z.boolean().default(false),
  /** Hijack detection. */
  hijack: z
    .strictObject({
      /** A resolver to compare answers with (e.g. your authoritative server, or a trusted DoH). */
      reference: resolverSchema.optional(),
      /** Fraction of answers allowed outside the reference's set (CDNs vary by resolver). Default 0. */
      tolerance: z.number().min(0).max(1).default(0),
      /** Also query a random non-existent label under the name: anything but NXDOMAIN is a rewrite. */
      nxdomain_probe: z.boolean().default(false),
      /** The name is public: private, reserved or documentation addresses in answers are a hijack. */
      bogons: z.boolean().default(false),
    })
    .prefault({}),
});

export type DnsSettings = z.output<typeof dnsSettingsSchema>;

export interface HijackEvidence {
  reason: 'unexpected_answer' | 'resolver_disagreement' | 'nxdomain_rewrite' | 'bogon_answer';
  /** What a trustworthy answer would be: ranges, the reference's answers, or "NXDOMAIN". */
  expected: string[];
  /** What this resolver said. */
  got: string[];
}

/** Kind-specific fields of a dns result record. */
export interface DnsFields {
  resolver: string;
  transport: string;
  /** `ip:port` that answered (system: the host's resolver). */
  server: string;
  /** The name queried (with the cache-busting label, if any). */
  query: string;
  /** The record type asked for (`type`), so an empty answer still says what it lacks. */
  queryType: string;
  rcode: string;
  flags: { aa: boolean; tc: boolean; ra: boolean; ad: boolean } | null;
  answers: Array<Pick<DnsRecord, 'type' | 'data' | 'ttl'> & { name: string }>;
  /** Names the answer went through (CNAME chain), first the queried name. */
  cnameChain: string[];
  /** A/AAAA answers: what other checks of this target would probe. */
  addresses: string[];
  authorityCount: number;
  additionalCount: number;
  hijack: HijackEvidence | null;
  /** The answer set differs from this check's previous answer from this resolver. */
  answersChanged: boolean;
}
