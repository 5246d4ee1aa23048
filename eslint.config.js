import js from '@eslint/js';
import { createRequire } from 'node:module';
import path from 'node:path';
import tseslint from 'typescript-eslint';

// The mini-program owns its React lint plugin (miniapp/package.json): resolve it from there.
const reactHooks = createRequire(path.join(import.meta.dirname, 'miniapp', 'package.json'))(
  'eslint-plugin-react-hooks',
);

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.data/**',
      'coverage/**',
      'test-artifacts/**',
      'miniapp/.swc/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // In a server an unawaited promise is a lost error or an unacknowledged write.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The mini-program: React hooks rules; only types may come from @ridetrace/shared (mini-programs forbid the
    // runtime code generation its validators use). Tests may import runtime values from it.
    files: ['miniapp/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@ridetrace/shared',
              allowTypeImports: true,
              message: 'The mini-program may import only types from @ridetrace/shared (import type).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['miniapp/**/*.test.{ts,tsx}'],
    rules: { '@typescript-eslint/no-restricted-imports': 'off' },
  },
  {
    // The console: React hooks rules; @ridetrace/shared for types only (its TypeBox schemas would fill the bundle;
    // runtime rules come from @ridetrace/shared/identity); the API only through the SDK client (src/api.ts).
    files: ['console/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@ridetrace/shared',
              allowTypeImports: true,
              message: 'The console imports only types from @ridetrace/shared (import type).',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'Call the API through the SDK client (src/api.ts useApi()).' },
      ],
    },
  },
  {
    // CommonJS configs: Taro's babel, dependency-cruiser.
    files: ['miniapp/babel.config.js', '.dependency-cruiser.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } },
  },
  {
    // Scripts use the server's public surface; its internals (testing.ts) are for the server's own tests.
    files: ['scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@ridetrace/server/*'],
              message: "Import from '@ridetrace/server' (server/src/index.ts) only.",
            },
          ],
        },
      ],
    },
  },
  {
    // Migrations are frozen in time and must not depend on today's table types (Kysely's convention).
    files: ['server/src/db/migrations/**', 'server/src/db/migrate.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['*.config.ts', '*.config.js', 'eslint.config.js', 'miniapp/babel.config.js'],
    languageOptions: { parserOptions: { projectService: false, project: null } },
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Mini-program API calls go through the SDK (`api()`, services/transport.ts): tokens and errors in one place.
    files: ['miniapp/src/**/*.{ts,tsx}'],
    ignores: ['miniapp/src/**/*.test.{ts,tsx}', 'miniapp/src/services/transport.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'Literal[value=/\\/v1\\//], TemplateElement[value.raw=/\\/v1\\//]',
          message: 'Raw API path: call the API through the SDK client (services/api.ts `api()`).',
        },
        {
          selector:
            "MemberExpression[object.name='Taro'][property.name=/^(request|uploadFile|downloadFile|connectSocket)$/], ImportDeclaration[source.value='@tarojs/taro'] > ImportSpecifier[imported.name=/^(request|uploadFile|downloadFile|connectSocket)$/]",
          message: 'Network calls go through the SDK transport (services/transport.ts) only.',
        },
        {
          selector: "NewExpression[callee.name='RideTraceClient']",
          message:
            'Use `api()` of services/api.ts: it builds the client on the Taro transport, with the tokens.',
        },
      ],
      'no-restricted-globals': [
        'error',
        {
          name: 'fetch',
          message: 'Network calls go through the SDK transport (services/transport.ts) only.',
        },
        {
          name: 'XMLHttpRequest',
          message: 'Network calls go through the SDK transport (services/transport.ts) only.',
        },
      ],
    },
  },
);
