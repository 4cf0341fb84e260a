import { defineConfig } from 'vitest/config';

const shared = {
  // raw ICMP sockets segfault inside worker threads (FIELD-NOTES): keep the forks pool.
  pool: 'forks' as const,
  testTimeout: 20_000,
  hookTimeout: 30_000,
};

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { test: { ...shared, name: 'integration', include: ['test/integration/**/*.test.ts'] } },
      // Tests that need the network lab (namespaces, routers, lab servers): built once for the tier.
      {
        test: { ...shared, name: 'lab', include: ['test/lab/**/*.test.ts'], globalSetup: ['test/lab/global-setup.ts'] },
      },
    ],
  },
});
