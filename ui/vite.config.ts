import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/ui/',
  publicDir: here('public'),
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('../dist/ui'),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Every asset a file of its own: a data: URI would need a wider Content-Security-Policy.
    assetsInlineLimit: 0,
    // The polyfill would be the only reason for an inline script; every browser the console targets preloads modules natively.
    modulePreload: { polyfill: false },
    target: 'es2022',
    sourcemap: false,
  },
});
