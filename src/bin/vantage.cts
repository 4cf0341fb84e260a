#!/usr/bin/env node
// A CommonJS entry point on purpose. getaddrinfo runs on the libuv pool (4 threads by default), so
// concurrent system-resolver lookups would queue and their timings include the wait. The pool is
// sized from UV_THREADPOOL_SIZE when first used, and Node's ESM loader already uses it to read an
// ESM entry file: only a CommonJS entry runs early enough to set it.
process.env.UV_THREADPOOL_SIZE ??= '64';

// Stay a CommonJS file: TypeScript keeps this dynamic import as is for NodeNext.
void import('../cli.js').then(({ runCli }) => runCli(process.argv.slice(2)));
