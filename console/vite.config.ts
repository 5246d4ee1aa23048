import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** Where `pnpm --filter @ridetrace/console dev` sends API calls: the server's default PORT (server/src/config.ts). */
const api = process.env.RIDETRACE_API ?? 'http://127.0.0.1:3000';

export default defineConfig({
  // The server serves the build under /console/ (server/src/modules/console).
  base: '/console/',
  plugins: [react()],
  html: {
    // Vite puts this on its tags and a <meta property="csp-nonce">; the server replaces it with a fresh nonce per
    // response, and AntD's style tags take it from the meta tag (src/csp.ts).
    cspNonce: '__CSP_NONCE__',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Assets under assets/ carry a content hash: the server caches them for a year (immutable).
    assetsDir: 'assets',
    chunkSizeWarningLimit: 1200,
  },
  server: {
    port: 5174,
    strictPort: true,
    // Same origin for the browser: the session cookies (SameSite=Strict, Path=/v1) need it.
    proxy: { '/v1': { target: api, changeOrigin: false } },
  },
});
