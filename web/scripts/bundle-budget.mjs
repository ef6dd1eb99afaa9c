// The first page's JavaScript, gzipped, must stay within budget (300 KB).
// "First page" = the entry script of dist/index.html and every chunk it loads statically
// (modulepreload links and static imports, followed transitively); lazy screens (room,
// profile) load later and are reported separately. Run after `npm run build`.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

const DIST = path.resolve(process.argv[2] ?? "dist");
const BUDGET_BYTES = Number(process.env.TUNEWAVE_JS_BUDGET_KB ?? 300) * 1024;

const html = readFileSync(path.join(DIST, "index.html"), "utf8");
const entries = [
  ...html.matchAll(/<script[^>]+type="module"[^>]+src="([^"]+)"/g),
  ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g),
].map((match) => match[1]);
if (entries.length === 0) {
  console.error("no module script in dist/index.html: build first");
  process.exit(1);
}

const gzipped = (file) => gzipSync(readFileSync(path.join(DIST, file)), { level: 9 }).length;
const firstPage = new Set();
const queue = entries.map((url) => url.replace(/^\//, ""));
while (queue.length) {
  const file = queue.shift();
  if (firstPage.has(file)) continue;
  firstPage.add(file);
  const source = readFileSync(path.join(DIST, file), "utf8");
  // Static imports only: `import ... from "./x.js"` / `import "./x.js"`, not import("./x.js").
  for (const match of source.matchAll(/(?:^|[;\s}])import\s*(?:[\w*{}\s,$]+from\s*)?["']([^"']+\.js)["']/g)) {
    queue.push(path.posix.join(path.posix.dirname(file), match[1]));
  }
}

let total = 0;
for (const file of firstPage) {
  const size = gzipped(file);
  total += size;
  console.log(`first page  ${file}  ${(size / 1024).toFixed(1)} KB gzipped`);
}
const assets = path.join(DIST, "assets");
for (const file of readdirSync(assets)) {
  const relative = `assets/${file}`;
  if (file.endsWith(".js") && !firstPage.has(relative)) {
    console.log(`on demand   ${relative}  ${(gzipped(relative) / 1024).toFixed(1)} KB gzipped`);
  }
}
console.log(
  `first page JS: ${(total / 1024).toFixed(1)} KB gzipped (budget ${(BUDGET_BYTES / 1024).toFixed(0)} KB)`,
);
if (total > BUDGET_BYTES) {
  console.error("over budget");
  process.exit(1);
}
