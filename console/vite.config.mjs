// Builds the console into OPENLAB_CONSOLE_OUT (default ../build/console), which `openlab serve`
// serves at / (index.html for every GET outside /api/ and /assets/). `vite` and `vite preview`
// proxy /api to the server named by OPENLAB_API (default http://127.0.0.1:8080) for development.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const api = process.env.OPENLAB_API ?? 'http://127.0.0.1:8080';
const proxy = { '/api': { target: api, changeOrigin: false } };

export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: resolve(process.env.OPENLAB_CONSOLE_OUT ?? '../build/console'),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { proxy },
  preview: { proxy },
});
