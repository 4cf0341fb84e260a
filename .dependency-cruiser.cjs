// The layers of src/, enforced by `npm run lint` (dependency-cruiser: it sees `import type` too,
// which eslint's import cycle rules skip, and a type-only cycle still tangles the design).
// Top to bottom: cli/commands -> agent -> web, diagnose, metrics, report, egress, config,
// schedule -> checks -> settings, net -> the leaf utilities at the root (clock, errors, log, slabs, version).
const LEAVES = '^src/(clock|errors|log|slabs|version)[.]ts$';
const folder = (names) => `^src/(${names.join('|')})/`;

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'Modules must not import each other in a circle (types included).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'leaves-are-leaves',
      severity: 'error',
      comment: 'clock, errors, log, slabs and version sit below everything: they import no folder of src/.',
      from: { path: LEAVES },
      to: { path: '^src/[^/]+/' },
    },
    {
      name: 'net-imports-nothing-above-it',
      severity: 'error',
      comment: 'net/ is the bottom layer: only itself and the leaf utilities.',
      from: { path: '^src/net/' },
      to: { path: '^src/', pathNot: ['^src/net/', LEAVES] },
    },
    {
      name: 'settings-imports-nothing-above-it',
      severity: 'error',
      comment: 'settings/ holds the zod building blocks config and checks share.',
      from: { path: '^src/settings/' },
      to: { path: '^src/', pathNot: ['^src/settings/', LEAVES] },
    },
    {
      name: 'checks-know-only-net-and-settings',
      severity: 'error',
      comment: 'Checks return data: they never reach for metrics, the agent, commands or the config.',
      from: { path: '^src/checks/' },
      to: { path: '^src/', pathNot: ['^src/(checks|net|settings)/', LEAVES] },
    },
    {
      name: 'schedule-knows-no-checks',
      severity: 'error',
      comment: 'The scheduler runs jobs; it knows nothing of what a job does.',
      from: { path: '^src/schedule/' },
      to: { path: '^src/', pathNot: ['^src/schedule/', LEAVES] },
    },
    {
      name: 'below-the-agent',
      severity: 'error',
      comment: 'Only commands and the agent itself use the run pipeline.',
      from: { path: '^src/', pathNot: ['^src/(agent|commands)/', '^src/cli[.]ts$'] },
      to: { path: '^src/agent/' },
    },
    {
      name: 'commands-are-the-top',
      severity: 'error',
      comment: 'Commands are entered from cli.ts only.',
      from: { path: '^src/', pathNot: ['^src/commands/', '^src/cli[.]ts$'] },
      to: { path: '^src/commands/' },
    },
    {
      name: 'one-way-between-the-middle-layers',
      severity: 'error',
      comment: 'config, metrics, report and egress are read by web, diagnose and the agent, not the reverse.',
      from: { path: folder(['config', 'metrics', 'report', 'egress']) },
      to: { path: folder(['web', 'diagnose']) },
    },
    {
      name: 'config-is-below-metrics-and-report',
      severity: 'error',
      comment: 'The config describes; metrics and report consume it.',
      from: { path: '^src/config/' },
      to: { path: folder(['metrics', 'report', 'egress', 'schedule']) },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
