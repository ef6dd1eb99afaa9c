// The room page under load, in headless chromium; bench/web_room.py seeds the room and runs it.
import { chromium } from "playwright-core";

const BASE = process.env.BENCH_URL;
const ROOM = process.env.BENCH_ROOM;
const TOKEN = process.env.BENCH_TOKEN;
const FRAME_BUDGET_MS = 1000 / 60;

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? 0 };
}

const browser = await chromium.launch({
  executablePath: process.env.TUNEWAVE_E2E_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((token) => {
    localStorage.setItem("tunewave.session", JSON.stringify({ token, expiresAtMs: Date.now() + 3_600_000 }));
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
    }).observe({ type: "longtask", buffered: true });
  }, TOKEN);
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);

  const started = Date.now();
  await page.goto(`${BASE}/room/${ROOM}`);
  await page.getByTestId("chat-message").filter({ hasText: "message 1000" }).first().waitFor();
  await page.getByRole("list", { name: "Upcoming tracks" }).getByText("Track number", { exact: false }).first().waitFor();
  const firstRenderMs = Date.now() - started;
  const loadLongTasks = await page.evaluate(() => window.__longTasks.splice(0));

  // Scroll the chat up a screen per frame until the first message is there; older pages load
  // on the way, as they would for a listener.
  const chat = await page.evaluate(async () => {
    const scroller = document.querySelector('[data-testid="chat-scroller"]');
    const frames = [];
    let last = performance.now();
    let maxRows = 0;
    const deadline = performance.now() + 60_000;
    while (performance.now() < deadline) {
      await new Promise((resolve) => requestAnimationFrame(resolve));
      const now = performance.now();
      frames.push(now - last);
      last = now;
      maxRows = Math.max(maxRows, scroller.querySelectorAll("li").length);
      const first = [...scroller.querySelectorAll('[data-testid="chat-message"]')].some((li) =>
        /message 1(\s|$)/.test(li.textContent ?? ""),
      );
      if (first && scroller.scrollTop === 0) break;
      scroller.scrollTop = Math.max(0, scroller.scrollTop - scroller.clientHeight);
    }
    return { frames, maxRows };
  });
  const chatLongTasks = await page.evaluate(() => window.__longTasks.splice(0));
  const loadedMessages = await page.evaluate(() => document.querySelector('[data-testid="chat-scroller"] ol').style.height);

  const queue = await page.evaluate(async () => {
    const scroller = document.querySelector('[data-testid="queue-scroller"]');
    const frames = [];
    let last = performance.now();
    let maxRows = 0;
    while (scroller.scrollTop + scroller.clientHeight < scroller.scrollHeight - 1) {
      scroller.scrollTop += scroller.clientHeight / 2;
      await new Promise((resolve) => requestAnimationFrame(resolve));
      const now = performance.now();
      frames.push(now - last);
      last = now;
      maxRows = Math.max(maxRows, scroller.querySelectorAll("li").length);
    }
    const lastRow = scroller.querySelector("li:last-child")?.textContent ?? "";
    return { frames, maxRows, lastRow };
  });
  const queueLongTasks = await page.evaluate(() => window.__longTasks.splice(0));

  const chatFrames = stats(chat.frames);
  const queueFrames = stats(queue.frames);
  const over = (frames) => frames.filter((ms) => ms > 50).length;
  const fmt = (s) => `p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, max ${s.max.toFixed(1)} ms over ${s.n} frames`;
  console.log(`room page: ${500} queue entries, ${1000} chat messages (headless chromium, ${new Date().toISOString()})`);
  console.log(`first render (navigation -> newest message and queue visible): ${firstRenderMs} ms`);
  console.log(`long tasks during load: ${loadLongTasks.length} (longest ${Math.max(0, ...loadLongTasks).toFixed(0)} ms)`);
  console.log(`chat scroll to message 1 (loading 19 older pages): ${fmt(chatFrames)}; frames > 50 ms: ${over(chat.frames)}; long tasks: ${chatLongTasks.length}`);
  console.log(`  chat rows in the DOM at most: ${chat.maxRows} (of 1000 messages; list height ${loadedMessages})`);
  console.log(`queue scroll to the end: ${fmt(queueFrames)}; frames > 50 ms: ${over(queue.frames)}; long tasks: ${queueLongTasks.length}`);
  console.log(`  queue rows in the DOM at most: ${queue.maxRows} (of 500 entries); last row: ${queue.lastRow.slice(0, 40)}`);
  console.log(`frame budget at 60 Hz: ${FRAME_BUDGET_MS.toFixed(1)} ms`);
} finally {
  await browser.close();
}
