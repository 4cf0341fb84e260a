import { createHash } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import * as z from 'zod';
import { ConfigError } from '../config/diagnostics.js';
import { runNow } from '../config/pace.js';
import { readConfigText } from '../config/read-config.js';
import { Reporter } from '../config/reporter.js';
import { YamlSource } from '../config/yaml-source.js';
import type { ConfigPath } from '../settings/config-path.js';
import { readPemFile, PemFileError } from '../settings/pem-file.js';
import type { PemContent } from '../settings/pem-file.js';
import { cipherList, curveList, tlsVersion } from './tls-names.js';
import type { Translated } from './tls-names.js';
import { CLIENT_AUTH_TYPES } from './web-config-shape.js';
import type { WebConfig, WebTls } from './web-config-shape.js';

// exporter-toolkit's web configuration file (docs/web-configuration.md in prometheus/exporter-toolkit),
// with its meaning: the same file secures an exporter and this agent. What Node cannot do as Go
// does is refused with the reason (tls-names.ts), never silently weakened. Loaded only when a web
// config file is given (web-config-source.ts): its schema and node:tls are no plain agent's start-up.

/** Paths that may skip basic auth (kubelet probes carry no credentials); the rest never may. */
const EXEMPTIBLE_PATHS = ['/healthz', '/readyz'] as const;

/** The response headers exporter-toolkit lets a file set, with the values it accepts (empty: any). */
const HEADER_VALUES: Readonly<Record<string, readonly string[]>> = {
  'Strict-Transport-Security': [],
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': [],
  'Content-Security-Policy': [],
};

const BCRYPT_HASH = /^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$/;

const tlsSchema = z.strictObject({
  cert: z.string().optional(),
  key: z.string().optional(),
  client_ca: z.string().optional(),
  cert_file: z.string().optional(),
  key_file: z.string().optional(),
  client_auth_type: z.enum(CLIENT_AUTH_TYPES).default('NoClientCert'),
  client_ca_file: z.string().optional(),
  client_allowed_sans: z.array(z.string().min(1)).default([]),
  min_version: z.string().default('TLS12'),
  max_version: z.string().default('TLS13'),
  cipher_suites: z.array(z.string()).default([]),
  prefer_server_cipher_suites: z.boolean().default(true),
  curve_preferences: z.array(z.string()).default([]),
});

const fileSchema = z.strictObject({
  tls_server_config: tlsSchema.optional(),
  http_server_config: z
    .strictObject({
      // HTTP/2 is not served (ALPN offers http/1.1 only, so clients fall back); accepted because
      // exporter-toolkit's default is true and a shared file says so.
      http2: z.boolean().default(true),
      headers: z.record(z.string(), z.string()).default({}),
    })
    .prefault({}),
  basic_auth_users: z
    .record(
      z.string().refine((u) => !u.includes(':'), 'a user name cannot contain ":" (basic auth splits there)'),
      z.string().regex(BCRYPT_HASH, 'not a bcrypt hash: make one with `htpasswd -nBC 10 "" | tr -d \':\\n\'`'),
    )
    .nullable()
    .default({}),
  auth_excluded_paths: z
    .array(z.enum(EXEMPTIBLE_PATHS, { error: `only ${EXEMPTIBLE_PATHS.join(' and ')} can skip basic auth` }))
    .default([]),
  rate_limit: z.unknown().optional(),
});

/** Reads and validates a web config file; every problem at once, located, in a `ConfigError`. */
export async function loadWebConfig(file: string): Promise<WebConfig> {
  return parseWebConfig(file, await readConfigText(file));
}

export function parseWebConfig(file: string, text: string): WebConfig {
  const source = runNow(YamlSource.parseSteps(file, text));
  if (source.diagnostics.length > 0) throw new ConfigError(source.diagnostics);
  const report = new Reporter(source);
  const parsed = fileSchema.safeParse(source.toJS() ?? {}, { reportInput: true });
  if (!parsed.success) {
    report.issues([], parsed.error.issues);
    throw new ConfigError(report.diagnostics);
  }
  const data = parsed.data;
  if (data.rate_limit !== undefined)
    report.add(['rate_limit'], 'rate_limit: not supported; /diagnose has its own diagnose_endpoint.min_interval');
  const headers = checkHeaders(data.http_server_config.headers, report);
  const fingerprint = createHash('sha256').update(text);
  const tls = data.tls_server_config
    ? buildTls(data.tls_server_config, dirname(file), report, (pemText) => fingerprint.update(pemText))
    : undefined;
  if (report.diagnostics.length > 0) throw new ConfigError(report.diagnostics);
  return Object.freeze({
    file,
    fingerprint: fingerprint.digest('hex'),
    tls,
    users: new Map(Object.entries(data.basic_auth_users ?? {})),
    headers,
    authExcludedPaths: new Set(data.auth_excluded_paths),
  });
}

function checkHeaders(headers: Record<string, string>, report: Reporter): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const path = ['http_server_config', 'headers', name];
    const allowed = HEADER_VALUES[name];
    if (!allowed)
      report.add(path, `${at(path)}: header "${name}" cannot be set (${Object.keys(HEADER_VALUES).join(', ')} can)`);
    else if (allowed.length > 0 && value !== '' && !allowed.includes(value))
      report.add(path, `${at(path)}: "${value}" is not one of ${allowed.join(', ')}`);
    // Blank means unset, as in exporter-toolkit.
    else if (value !== '') out[name] = value;
  }
  return out;
}

type RawTls = z.output<typeof tlsSchema>;

/** Undefined when the section names neither a certificate nor a key: plain HTTP, as exporter-toolkit does. */
function buildTls(raw: RawTls, baseDir: string, report: Reporter, seen: (pem: string) => void): WebTls | undefined {
  const base = ['tls_server_config'];
  const [cert, key, ca] = (
    [
      [raw.cert, raw.cert_file, 'cert', 'certificates'],
      [raw.key, raw.key_file, 'key', 'private-key'],
      [raw.client_ca, raw.client_ca_file, 'client_ca', 'certificates'],
    ] as const
  ).map(([inline, file, name, content]) => {
    const text = pem(inline, file, name, content, baseDir, report);
    seen(`\0${text ?? ''}`);
    return text;
  });
  if (cert === undefined && key === undefined && !raw.client_ca && !raw.client_ca_file) return undefined;
  if (cert === undefined) report.add(base, 'tls_server_config: cert_file (or cert) is required for TLS');
  if (key === undefined) report.add(base, 'tls_server_config: key_file (or key) is required for TLS');
  const auth = raw.client_auth_type;
  const verifies = auth === 'VerifyClientCertIfGiven' || auth === 'RequireAndVerifyClientCert';
  if (verifies && ca === undefined)
    report.add([...base, 'client_auth_type'], `tls_server_config.client_auth_type: ${auth} needs client_ca_file`);
  // As exporter-toolkit: a CA without any client-certificate policy is a mistake, not a setting.
  if (auth === 'NoClientCert' && ca !== undefined)
    report.add(
      [...base, 'client_auth_type'],
      'tls_server_config.client_auth_type: client_ca_file is set but NoClientCert never asks for a client ' +
        'certificate; use RequireAndVerifyClientCert',
    );
  if (raw.client_allowed_sans.length > 0 && auth !== 'RequireAnyClientCert' && auth !== 'RequireAndVerifyClientCert')
    report.add(
      [...base, 'client_allowed_sans'],
      'tls_server_config.client_allowed_sans: needs client_auth_type RequireAndVerifyClientCert ' +
        '(or RequireAnyClientCert)',
    );
  const options: SecureContextOptions = { honorCipherOrder: raw.prefer_server_cipher_suites };
  const minVersion = translate(tlsVersion(raw.min_version), [...base, 'min_version'], report);
  const maxVersion = translate(tlsVersion(raw.max_version), [...base, 'max_version'], report);
  if (minVersion && maxVersion && minVersion > maxVersion)
    report.add([...base, 'min_version'], 'tls_server_config.min_version: above max_version');
  if (minVersion) options.minVersion = minVersion;
  if (maxVersion) options.maxVersion = maxVersion;
  if (raw.cipher_suites.length > 0) {
    const ciphers = translate(cipherList(raw.cipher_suites), [...base, 'cipher_suites'], report);
    if (ciphers) options.ciphers = ciphers;
  }
  if (raw.curve_preferences.length > 0) {
    const curves = translate(curveList(raw.curve_preferences), [...base, 'curve_preferences'], report);
    if (curves) options.ecdhCurve = curves;
  }
  if (cert === undefined || key === undefined || report.diagnostics.length > 0) return undefined;
  const complete: SecureContextOptions = { ...options, cert, key, ...(ca !== undefined ? { ca } : {}) };
  try {
    // node:tls only once a web config asks for TLS (Node >= 20.16): a plain agent starts without it.
    process.getBuiltinModule('node:tls').createSecureContext(complete);
    return { options: complete, clientAuth: auth, allowedSans: raw.client_allowed_sans };
  } catch (err) {
    report.add(base, `tls_server_config: Node cannot use these settings: ${(err as Error).message}`);
    return undefined;
  }
}

/** Inline PEM or a file's (relative to the web config's directory, as in exporter-toolkit); both is an error. */
function pem(
  inline: string | undefined,
  file: string | undefined,
  name: string,
  content: PemContent,
  baseDir: string,
  report: Reporter,
): string | undefined {
  const path = ['tls_server_config', `${name}_file`];
  if (inline && file) {
    report.add(path, `${at(path)}: give ${name} or ${name}_file, not both`);
    return undefined;
  }
  if (inline) return inline;
  if (!file) return undefined;
  try {
    return readPemFile(isAbsolute(file) ? file : resolve(baseDir, file), content);
  } catch (err) {
    if (!(err instanceof PemFileError)) throw err;
    report.add(path, `${at(path)}: ${err.message}`);
    return undefined;
  }
}

function translate<T>(result: Translated<T>, path: ConfigPath, report: Reporter): T | undefined {
  if (result.ok) return result.value;
  report.add(path, `${at(path)}: ${result.problem}`);
  return undefined;
}

function at(path: ConfigPath): string {
  return path.join('.');
}
