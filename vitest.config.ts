import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // raw ICMP sockets segfault inside worker threads (FIELD-NOTES): keep the forks pool.
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
