import { readdirSync } from "node:fs";

import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import reactRefresh from "eslint-plugin-react-refresh";
import { defineConfig, globalIgnores } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

/**
 * Feature boundaries (bulletproof-react's unidirectional architecture, docs/web.md "Layout"):
 * shared code -> features -> app. A feature never imports another feature or app/; what two
 * features need lives in a shared folder, and app/ composes features into screens. Shared
 * folders import no feature and no app/. Checked with core `no-restricted-imports` on the
 * relative import path, so it needs no plugin.
 */
const SHARED = ["api", "shared", "sync", "test", "assets"]; // sync/: pure clock maths, no app code
const FEATURES = ["auth", "chat", "genres", "live", "player", "profile", "queue", "recommendations", "rooms"];
const APP = ["app"];

/**
 * Imports across features that are allowed for now, each with its reason: feature -> the
 * other feature's files it may import.
 */
const EXCEPTIONS = {
  // The live room's store reads the player's clock adapter and the playback anchor type; they
  // belong in a shared time/playback module, which moves with the live-frames work on live/.
  live: { player: ["clock.ts", "schedule.ts"] },
};

const BOUNDARY_MESSAGE =
  "Features do not import each other (or app/): move what both need to a shared folder " +
  "(shared/, api/) or compose them in app/ (docs/web.md, Layout).";

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const upward = "^(?:\\.\\./)+";

function boundaryPatterns(folder, forbidden) {
  const allowed = EXCEPTIONS[folder] ?? {};
  const closed = forbidden.filter((other) => !(other in allowed));
  const patterns = [{ regex: `${upward}(?:${closed.join("|")})(?:/|$)`, message: BOUNDARY_MESSAGE }];
  for (const [other, files] of Object.entries(allowed)) {
    const open = files.map(escape).join("|");
    patterns.push({ regex: `${upward}${other}(?:$|/(?!(?:${open})$))`, message: BOUNDARY_MESSAGE });
  }
  return patterns;
}

function boundary(folder, forbidden) {
  return {
    files: [`src/${folder}/**/*.{ts,tsx}`],
    rules: { "no-restricted-imports": ["error", { patterns: boundaryPatterns(folder, forbidden) }] },
  };
}

// A new folder under src/ must be placed in one of the layers above, or it would go unchecked.
const unplaced = readdirSync(new URL("./src", import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .filter((name) => ![...SHARED, ...FEATURES, ...APP].includes(name));
if (unplaced.length) {
  throw new Error(`eslint.config.js: place src/${unplaced.join(", src/")} in SHARED, FEATURES or APP`);
}

export default defineConfig([
  globalIgnores(["dist", "node_modules", "src/api/schema.d.ts"]),
  {
    files: ["**/*.{ts,tsx}"],
    extends: [
      js.configs.recommended,
      tseslint.configs.recommended,
      reactHooks.configs.flat.recommended,
      reactRefresh.configs.vite,
    ],
    languageOptions: {
      ecmaVersion: 2022,
      globals: globals.browser,
    },
  },
  ...FEATURES.map((feature) => boundary(feature, [...FEATURES.filter((other) => other !== feature), ...APP])),
  ...SHARED.map((folder) => boundary(folder, [...FEATURES, ...APP])),
  {
    files: ["*.config.{js,ts}"],
    languageOptions: { globals: globals.node },
  },
]);
