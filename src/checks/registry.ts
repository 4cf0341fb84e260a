import type { CheckKind } from './check.js';
import { dnsKind } from './dns/index.js';
import { httpsKind } from './https/index.js';
import { icmpKind } from './icmp/index.js';
import { tcpKind } from './tcp/index.js';
import { tracerouteKind } from './traceroute/index.js';

/** An explicit set of check kinds: no global state, so tests can build one with fakes. */
export class CheckRegistry {
  private readonly byKind = new Map<string, CheckKind>();

  constructor(kinds: readonly CheckKind[]) {
    for (const kind of kinds) {
      if (this.byKind.has(kind.kind)) throw new Error(`check kind ${kind.kind} registered twice`);
      this.byKind.set(kind.kind, kind);
    }
  }

  get(kind: string): CheckKind | undefined {
    return this.byKind.get(kind);
  }

  kinds(): CheckKind[] {
    return [...this.byKind.values()];
  }

  names(): string[] {
    return [...this.byKind.keys()];
  }
}

/** Every kind Vantage ships. A new kind is one folder under checks/ and one entry here. */
export function builtinRegistry(): CheckRegistry {
  return new CheckRegistry([tcpKind, icmpKind, tracerouteKind, dnsKind, httpsKind]);
}
