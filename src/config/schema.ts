import { z } from 'zod';
import { parseDuration } from './duration.js';

/** Names of things that become label values: readable, no spaces, no quoting needed anywhere. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** Prometheus label names, minus the reserved `__` prefix. */
export const LABEL_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Longest interval or timeout accepted: a day. Longer is a typo more often than a plan. */
export const MAX_DURATION_MS = 86_400_000;

/** A duration string (`250ms`, `30s`, `5m`) parsed to milliseconds, at most a day. */
export const durationSchema = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration: write it like 250ms, 30s, 5m or 1h` });
    return z.NEVER;
  }
  if (ms > MAX_DURATION_MS) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is longer than the maximum of 24h` });
    return z.NEVER;
  }
  return ms;
});

const nameSchema = z.string().regex(NAME_PATTERN, 'use letters, digits, "_", "." and "-" only (it becomes a label value)');
const labelsSchema = z.record(z.string(), z.string()).default({});

export const agentSchema = z.strictObject({
  /** Agent id, the `agent` label. Empty or absent: the host name (the pod name in Kubernetes). */
  id: z.union([z.literal(''), nameSchema]).optional(),
  /** Region the agent runs in (e.g. `eu-west-1`), the `region` label. */
  region: z.string().default(''),
  /** Carrier or network operator whose path is measured, the `carrier` label. */
  carrier: z.string().default(''),
  /** Access network type (`fiber`, `mobile-4g`, `datacenter`...), the `network_type` label. */
  network_type: z.string().default(''),
  /** Extra labels put on every series (e.g. `{ az: eu-west-1a }`). */
  labels: labelsSchema,
});

export const defaultsSchema = z.strictObject({
  /** How often each check runs unless it says otherwise. Default `30s`. */
  interval: durationSchema.optional(),
  /** How long a run may take unless the check says otherwise. Default `5s`. */
  timeout: durationSchema.optional(),
});

/** Keys every check entry may have, whatever its kind; the rest are the kind's settings. */
export const checkCommonShape = {
  kind: z.string(),
  /** Unique check name, the `check` label. Default `<target>-<kind>`. */
  name: nameSchema.optional(),
  /** Fixed interval between runs (`30s`). Exclusive with `cron`. */
  interval: durationSchema.optional(),
  /** Cron expression with an optional seconds field (`*\/10 * * * * *`). Exclusive with `interval`. */
  cron: z.string().optional(),
  /** Deadline of one run; must be shorter than the interval. */
  timeout: durationSchema.optional(),
};

export const targetSchema = z.strictObject({
  /** Unique target name, the `target` label. */
  name: nameSchema,
  /** Host name or IP address to probe. Exactly one of `host` and `url`. */
  host: z.string().min(1).optional(),
  /** URL to probe (kinds that need a host use its host name). Exactly one of `host` and `url`. */
  url: z.url({ protocol: /^https?$/, error: 'url must be an absolute http:// or https:// URL' }).optional(),
  /** Free-form group, e.g. the cloud (`aws`) or the service. */
  group: z.string().default(''),
  /** Labels for this target (on `vantage_target_info`, in events and reports). */
  labels: labelsSchema,
  /** The checks to run against this target. */
  checks: z.array(z.looseObject({ kind: z.string() })).min(1),
});

export const configSchema = z.strictObject({
  agent: agentSchema.default({ region: '', carrier: '', network_type: '', labels: {} }),
  /** Where `/metrics`, `/healthz` and `/readyz` are served. Default `0.0.0.0:9477`. */
  listen: z.string().optional(),
  defaults: defaultsSchema.default({}),
  /** Cap on runs in flight at once across all checks. Default 64. */
  max_concurrent_runs: z.number().int().min(1).max(10_000).default(64),
  targets: z.array(z.unknown()).min(1, 'at least one target is needed'),
});

export type RawConfig = z.infer<typeof configSchema>;
export type RawTarget = z.infer<typeof targetSchema>;
