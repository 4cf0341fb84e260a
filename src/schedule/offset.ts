/**
 * A deterministic phase offset in [0, intervalMs): FNV-1a of agent id and check name. Agents of a
 * fleet (different ids) then spread their probes over the interval instead of firing in lock-step,
 * and one agent keeps its phase across restarts, so its series stay evenly spaced.
 */
export function phaseOffsetMs(agentId: string, checkName: string, intervalMs: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(`${agentId}\u0000${checkName}`, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % Math.max(1, Math.floor(intervalMs));
}
