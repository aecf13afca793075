// `npm run lint`: typescript-eslint's recommended rules (no type information:
// fast enough to run on every change) over the TypeScript and the Node
// scripts. Prettier owns the layout; nothing here is about formatting.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'prebuilds/', 'reports/', 'node_modules/', 'examples/**/node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_` marks a parameter a signature needs and the body does not.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // Finding control characters in someone else's text is what these do.
    files: ['harness/view/safe-text.ts', '**/*.test.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    // The examples are other people's setups, as their tools expect them (pm2 loads CommonJS).
    files: ['examples/**/*.js', 'examples/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
