import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The dashboard is served by `palisade serve` on the same origin as the API, under a
// strict CSP: the build must emit only external scripts and stylesheets (no inline code).
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // keep every asset a file: data: URLs would need a looser CSP
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    // `npm run dev -w @palisade/web` against a local `palisade serve --port 8080`
    proxy: { '/api': 'http://127.0.0.1:8080', '/healthz': 'http://127.0.0.1:8080' },
  },
});
