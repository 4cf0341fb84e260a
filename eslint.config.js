import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Node modules that open sockets, and the socket-making names of those that also offer helpers. */
const SOCKET_IMPORTS = [
  ...['dgram', 'tls', 'https', 'http2'].flatMap((m) => [m, `node:${m}`]).map((name) => ({ name })),
  ...['net', 'node:net'].map((name) => ({
    name,
    importNames: ['connect', 'createConnection', 'Socket', 'Server', 'createServer'],
  })),
  ...['http', 'node:http'].map((name) => ({ name, importNames: ['request', 'get', 'Agent'] })),
].map((rule) => ({
  ...rule,
  message: 'Only src/net/ opens sockets (and src/web/ serves): put the I/O behind a net/ port.',
}));

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'build-lab/', 'node_modules/', 'coverage/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Prettier wraps code at 120; this catches what it cannot wrap (strings, comments, URLs).
      'max-len': ['error', { code: 120, tabWidth: 2 }],
      // `l`: V8's linear-time engine, used to tell boundable user patterns (settings/user-regex.ts).
      'no-invalid-regexp': ['error', { allowConstructorFlags: ['l'] }],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/net/**', 'src/web/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: SOCKET_IMPORTS }],
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'Only src/net/ opens sockets: put the request behind a net/ port.' },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: { globals: globals.node },
  },
);
