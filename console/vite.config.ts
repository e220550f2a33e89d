// The console bundle: one page under /console/ (the API serves console/dist there), no CDN, no
// network at run time. JSX is compiled for Preact by Vite's own transformer (no plugin needed).
import path from 'node:path'
import { defineConfig } from 'vite'

export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: path.join(import.meta.dirname, 'dist'),
    emptyOutDir: true,
    // Browsers of the last few years; the phones the crews carry included.
    target: 'es2022',
    chunkSizeWarningLimit: 400,
  },
})
