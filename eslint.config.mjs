// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Only the engine adapter talks to Docker, so the rest reads (and is tested) over Engine.
const noDockerode = { name: 'dockerode', message: 'Only src/core/docker/engine.ts imports dockerode: add what you need to Engine.' };

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.vscode-test/**', 'bench/results/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    // More than four positional parameters read badly at the call site: pass a named object.
    files: ['src/**/*.ts'],
    rules: { 'max-params': ['error', 4] },
  },
  {
    files: ['**/*.ts'],
    ignores: ['src/core/docker/engine.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [noDockerode] }],
    },
  },
  {
    // The core runs under plain Node (CLI, tests): it must never load `vscode`.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/docker/engine.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/core must not depend on vscode; put VS Code code in src/vscode/.', allowTypeImports: true }, noDockerode],
      }],
    },
  },
  {
    // The webview scripts and the protocol both sides share run in the browser (and the protocol in unit tests).
    files: ['src/webview/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/webview runs in the browser; the extension side imports it, not the other way.' }],
        patterns: [{ group: ['node:*'], message: 'src/webview runs in the browser: no Node modules.' }],
      }],
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // Functions the UI test hands to the page run in the browser.
    files: ['test/e2e/**/*.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
