/// <reference types="vitest/config" />
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// In development the SPA runs on Vite's server and the API on uvicorn; these paths go to the
// API so the browser sees one origin, as it does in production (the API serves web/dist).
const API_TARGET = process.env.TUNEWAVE_API_URL ?? "http://127.0.0.1:8000";
const API_PATHS = [
  "/auth",
  "/users",
  "/rooms",
  "/chat",
  "/track",
  "/spotify",
  "/spotify-public",
  "/recommendations",
  "/genres",
  "/healthz",
  "/readyz",
  "/metrics",
  "/docs",
  "/openapi.json",
];

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    proxy: {
      ...Object.fromEntries(API_PATHS.map((path) => [path, { target: API_TARGET }])),
      "/ws": { target: API_TARGET, ws: true },
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
    unstubGlobals: true,
  },
});
