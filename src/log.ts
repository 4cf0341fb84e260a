import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Keys whose values are secrets wherever they appear (config settings, evidence, headers). */
const SECRET_KEYS = [
  'password',
  'token',
  'bearer_token',
  'secret',
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
  'api_key',
];

/** pino's redact paths do not recurse, so secrets are listed at every depth config and events use. */
function secretPaths(): string[] {
  const prefixes = ['', '*.', '*.*.', '*.*.*.'];
  return prefixes.flatMap((p) => SECRET_KEYS.map((k) => `${p}${k}`));
}

/** JSON lines on stdout (or `destination`, in tests), secrets censored. */
export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'vantage' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: secretPaths(), censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
