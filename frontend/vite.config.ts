import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Django serves dist/ (index.html at every client route, dist/assets/ under /assets/).
// `npm run dev` proxies the API to `make run`'s server so the session cookie is shared.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir: "dist", assetsDir: "assets", sourcemap: false, chunkSizeWarningLimit: 900 },
  server: {
    proxy: { "/api": "http://127.0.0.1:8000", "/admin": "http://127.0.0.1:8000" },
  },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
