import type { TestProject } from 'vitest/node';
import { Lab, labSupport } from './lab.js';
import './lab-context.js';

/**
 * Builds one lab for the whole lab tier and tears it down afterwards. Where the lab cannot run
 * (not root, tools missing) its tests skip with the reason, except under CI=true: CI runs as root
 * and must exercise the lab, so there it fails loudly.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const support = await labSupport();
  if (!support.ok) {
    if (process.env.CI === 'true') throw new Error(`network lab unavailable under CI: ${support.reason}`);
    process.stderr.write(`\n[lab] skipping the lab tier: ${support.reason}\n`);
    project.provide('lab', { unavailable: support.reason });
    return async () => undefined;
  }
  const lab = await Lab.up();
  const onSignal = (): void => void lab.down().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  project.provide('lab', { truth: lab.truth });
  return async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await lab.down();
  };
}
