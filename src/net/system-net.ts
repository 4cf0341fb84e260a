import type { Clock } from '../clock.js';
import type { NetDeps } from './net-deps.js';
import { SystemResolver } from './system-resolver.js';
import { NodeTcpConnector } from './tcp-connector.js';

/** The real network adapters. */
export function systemNet(clock: Clock): NetDeps {
  return { resolver: new SystemResolver(), tcp: new NodeTcpConnector(clock) };
}
