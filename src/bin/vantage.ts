#!/usr/bin/env node
// getaddrinfo runs on the libuv pool (4 threads by default), so concurrent system-resolver lookups
// would queue and their timings include the wait. The pool is sized from this variable on first
// use, so it must be set before anything touches the pool: hence this tiny entry point and the
// dynamic import below.
process.env.UV_THREADPOOL_SIZE ??= '64';

const { main } = await import('../cli.js');
process.exitCode = await main(process.argv.slice(2));
