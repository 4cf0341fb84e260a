import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../src/checks/registry.js';
import { agentSchema, configSchema, defaultsSchema, targetSchema, checkCommonShape } from '../../src/config/schema.js';
import { failureCodes } from '../../src/errors.js';
import { catalogue } from '../../src/metrics/catalogue.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The README is the reference users read: everything the code defines must be in it. */
describe('README stays true', () => {
  it.each(catalogue(builtinRegistry().kinds()).map((d) => d.name))('documents metric %s', (name) => {
    expect(readme).toContain(`\`${name}\``);
  });

  it.each(failureCodes)('documents failure code %s', (code) => {
    expect(readme).toContain(`\`${code}\``);
  });

  const keys = [
    ...Object.keys(configSchema.shape).filter((k) => k !== 'agent' && k !== 'defaults' && k !== 'targets'),
    ...Object.keys(agentSchema.shape).map((k) => `agent.${k}`),
    ...Object.keys(defaultsSchema.shape).map((k) => `defaults.${k}`),
    ...Object.keys(targetSchema.shape).map((k) => `targets[].${k}`),
    ...Object.keys(checkCommonShape).map((k) => `checks[].${k}`),
    ...builtinRegistry()
      .kinds()
      .flatMap((kind) => Object.keys(kind.settings.shape)),
  ];
  it.each(keys)('documents config key %s', (key) => {
    expect(readme).toContain(`\`${key}\``);
  });
});
