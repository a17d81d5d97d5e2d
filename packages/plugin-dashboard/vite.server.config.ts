import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The first view's server renderer (client/src/server-render.tsx): the client's own components
// built for Node into dist/server-render, preact and its string renderer bundled in (they are
// not the package's runtime dependencies), loaded by src/first-view-render.ts.
export default defineConfig({
  root: fileURLToPath(new URL('./client', import.meta.url)),
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  ssr: { noExternal: true },
  build: {
    ssr: fileURLToPath(new URL('./client/src/server-render.tsx', import.meta.url)),
    outDir: fileURLToPath(new URL('./dist/server-render', import.meta.url)),
    emptyOutDir: true,
    target: 'node20',
    sourcemap: false,
    rollupOptions: {
      // The history charts load in the browser after the first view (never on the server): left
      // out, not bundled with uPlot into a file nobody runs.
      external: (id) => /[\\/]charts(\.tsx)?$/.test(id),
      output: { format: 'es', entryFileNames: 'server-render.js' },
    },
  },
});
