import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { systemNet } from '../../src/net/system-net.js';
import { SystemResolver } from '../../src/net/system-resolver.js';

describe('systemNet ready()', () => {
  afterEach(() => vi.restoreAllMocks());

  it('warms the system resolver for a name, not for IP literals only', async () => {
    const warm = vi.spyOn(SystemResolver.prototype, 'warm');
    const literals = systemNet(systemClock);
    await literals.ready(['tcp'], ['127.0.0.1', '::1']);
    expect(warm).not.toHaveBeenCalled();
    literals.icmp.close?.();

    const named = systemNet(systemClock);
    await named.ready(['tcp'], ['127.0.0.1', 'localhost']);
    expect(warm).toHaveBeenCalledTimes(1);
    named.icmp.close?.();

    // Without hosts (the agent: a reload may add names), the resolver is warmed.
    const agent = systemNet(systemClock);
    await agent.ready(['icmp']);
    expect(warm).toHaveBeenCalledTimes(2);
    agent.icmp.close?.();
  });
});
