import { stripBrackets } from '../../net/address.js';
import { defineKind } from '../check.js';
import type { ProbeTarget, SettingsProblem, TargetSpec } from '../check.js';
import { TcpCheck } from './tcp-check.js';
import { tcpSettingsSchema } from './tcp-settings.js';
import type { TcpSettings } from './tcp-settings.js';

const URL_DEFAULT_PORT: Record<string, number> = { 'https:': 443, 'http:': 80 };

/** The port a tcp check connects to: its own setting, else the target URL's. */
function tcpPort(target: TargetSpec, settings: TcpSettings): number | undefined {
  if (settings.port !== undefined) return settings.port;
  if (!target.url) return undefined;
  const url = new URL(target.url);
  return url.port ? Number(url.port) : URL_DEFAULT_PORT[url.protocol];
}

export const tcpKind = defineKind({
  kind: 'tcp',
  summary: 'TCP connect to host:port, timed per resolved IP',
  settings: tcpSettingsSchema,
  phases: ['resolve', 'connect'],
  metrics: [],

  checkSettings(target: TargetSpec, settings: TcpSettings): SettingsProblem[] {
    if (tcpPort(target, settings) !== undefined) return [];
    return [
      { path: [], message: `tcp check on target "${target.name}" needs a port (set port:, or give the target a url:)` },
    ];
  },

  // A connect that times out is a silent IP as much as an unanswered ping (a refused one is not).
  silentIp: (result) => result.error?.code === 'TCP_TIMEOUT',

  parseProbeTarget(arg: string): ProbeTarget {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) {
      const url = new URL(arg);
      return { host: stripBrackets(url.hostname), url: arg, settings: {} };
    }
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(arg) ?? /^([^:]+):(\d+)$/.exec(arg);
    if (m) return { host: m[1] ?? '', settings: { port: Number(m[2]) } };
    return { host: stripBrackets(arg), settings: {} };
  },

  create(spec, net) {
    const port = tcpPort(spec.target, spec.settings);
    if (port === undefined)
      throw new Error(`tcp check ${spec.name} has no port; config validation should have refused it`);
    return new TcpCheck(spec, net, port);
  },
});
