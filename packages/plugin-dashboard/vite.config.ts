import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The browser client, built when the package is built (never on a user's machine) into
// dist/client, which the plugin serves. Relative asset paths work under any mount path.
export default defineConfig({
  root: fileURLToPath(new URL('./client', import.meta.url)),
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('./dist/client', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
});
