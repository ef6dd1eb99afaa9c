// End-to-end tests of the web app in a real browser (playwright-core driving Debian's
// chromium, headless) against a running API. tests/e2e/test_web_e2e.py starts the API on a
// scratch database and runs this file; to run it by hand against `make run`:
//   TUNEWAVE_E2E_URL=http://127.0.0.1:8000 node web/e2e/run.mjs
// Screenshots go to TUNEWAVE_E2E_ARTIFACTS (default: test-artifacts/e2e).
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const BASE = process.env.TUNEWAVE_E2E_URL ?? "http://127.0.0.1:8000";
const ARTIFACTS = process.env.TUNEWAVE_E2E_ARTIFACTS ?? "test-artifacts/e2e";
const CHROMIUM = process.env.TUNEWAVE_E2E_CHROMIUM ?? "/usr/bin/chromium";
const TRACK_QUERY = process.env.TUNEWAVE_E2E_TRACK_QUERY ?? "lanterns";
const TIMEOUT_MS = 15_000;
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

mkdirSync(ARTIFACTS, { recursive: true });
const results = [];
const screenshots = [];

const pages = [];
// The API serves the app under a strict Content-Security-Policy: anything it blocks is a bug.
const cspViolations = [];

function watchCsp(page) {
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
}

async function step(name, body) {
  const started = Date.now();
  try {
    await body();
    results.push({ name, ok: true, ms: Date.now() - started });
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.push({ name, ok: false, ms: Date.now() - started });
    console.log(`FAIL ${name}: ${error instanceof Error ? error.stack : error}`);
    for (const [index, page] of pages.entries()) {
      await shot(page, `failure-${index}`).catch(() => undefined);
    }
    throw error;
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function shot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  screenshots.push(file);
}

async function signIn(context, name) {
  const page = await context.newPage();
  pages.push(page);
  watchCsp(page);
  page.setDefaultTimeout(TIMEOUT_MS);
  await page.goto(`${BASE}/`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel("Your name").fill(name);
  await page.getByRole("button", { name: "Enter" }).click();
  await page.getByRole("heading", { name: "Discover" }).waitFor();
  return page;
}

async function sendChat(page, text) {
  await page.getByLabel("Message", { exact: true }).fill(text);
  await page.getByRole("button", { name: "Send" }).click();
}

/** Start listening on `page` (clicking "Click to listen" if the browser held sound back). */
async function listens(page, title) {
  await page.getByTestId("now-playing-title").getByText(title).waitFor();
  await page.waitForFunction(() => {
    const state = window.tunewavePlayer?.().state;
    return state === "playing" || state === "blocked";
  });
  if ((await page.evaluate(() => window.tunewavePlayer().state)) === "blocked") {
    await page.getByTestId("listen-button").click();
  }
  await page.waitForFunction(() => window.tunewavePlayer?.().heardMs !== null);
}

/**
 * What two pages hear, brought to one instant. Both pages run in one browser on one machine,
 * so their wall clocks are the same clock: each probe says the position heard and the wall
 * time it was taken at, and a position advances 1 ms per ms. This also catches an error in a
 * page's estimate of the server's clock, which a comparison in estimated server time hides.
 */
async function positionGapMs(a, b) {
  const [pa, pb] = await Promise.all([
    a.evaluate(() => window.tunewavePlayer()),
    b.evaluate(() => window.tunewavePlayer()),
  ]);
  const at = Math.max(pa.atMs, pb.atMs);
  const heardA = pa.heardMs + (at - pa.atMs);
  const heardB = pb.heardMs + (at - pb.atMs);
  return {
    gap: Math.abs(heardA - heardB),
    heardA,
    heardB,
    driftA: pa.heardMs - pa.expectedMs,
    driftB: pb.heardMs - pb.expectedMs,
  };
}

async function inSync(a, b, label) {
  // Let the players settle (start, first corrections), then every sample must agree.
  await a.waitForTimeout(1_500);
  const samples = [];
  for (let i = 0; i < 5; i++) {
    samples.push(await positionGapMs(a, b));
    await a.waitForTimeout(200);
  }
  const worst = Math.max(...samples.map((s) => s.gap));
  console.log(
    `     ${label}: positions ${samples.map((s) => `${s.heardA.toFixed(0)}/${s.heardB.toFixed(0)}`).join(", ")} ms; ` +
      `drift from expected ${samples.map((s) => `${s.driftA.toFixed(0)}/${s.driftB.toFixed(0)}`).join(", ")} ms; worst gap ${worst.toFixed(1)} ms`,
  );
  check(worst <= 50, `${label}: the players are ${worst.toFixed(1)} ms apart (limit 50 ms)`);
  check(samples.at(-1).heardA > samples[0].heardA, `${label}: the position does not advance`);
}

async function seesMessage(page, text) {
  await page.getByTestId("chat-message").filter({ hasText: text }).first().waitFor();
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--autoplay-policy=no-user-gesture-required", "--no-sandbox"],
});
let failed = false;
try {
  const aliceContext = await browser.newContext({ viewport: DESKTOP, locale: "en-US" });
  const bobContext = await browser.newContext({ viewport: DESKTOP, locale: "en-US" });
  const roomName = `Night Shift ${Date.now() % 100000}`;
  const password = "s3cret-pass";
  let alice;
  let bob;
  let roomUrl;

  await step("two people sign in with dev login in separate contexts", async () => {
    alice = await signIn(aliceContext, "alice");
    bob = await signIn(bobContext, "bob");
  });

  await step("the sign-in keeps the wanted page across a sign-out", async () => {
    const context = await browser.newContext({ viewport: DESKTOP, locale: "en-US" });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    await page.goto(`${BASE}/profile`);
    await page.waitForURL(/\/signin\?next=%2Fprofile/);
    await page.getByLabel("Your name").fill("carol");
    await page.getByRole("button", { name: "Enter" }).click();
    await page.waitForURL(/\/profile$/);
    await page.getByRole("heading", { name: "carol" }).waitFor();
    await context.close();
  });

  await step("alice creates a private room with a password", async () => {
    await alice.getByRole("button", { name: "Create a room" }).click();
    await alice.getByLabel("Name", { exact: true }).fill(roomName);
    await alice.getByLabel("Description").fill("Late-night listening");
    await alice.getByLabel("Private (needs a password)").check();
    await alice.getByLabel("Password", { exact: true }).fill(password);
    await alice.getByRole("button", { name: "Create", exact: true }).click();
    await alice.waitForURL(/\/room\/[0-9a-f-]{36}$/);
    roomUrl = alice.url();
    await alice.getByRole("heading", { name: roomName }).waitFor();
  });

  await step("bob finds the room and a wrong password shows an error", async () => {
    await bob.goto(`${BASE}/`);
    await bob.getByLabel("Search rooms").fill(roomName);
    // The room list, not "Rooms for you", which may recommend the same room.
    await bob.getByRole("region", { name: "Live rooms" }).getByRole("link", { name: roomName }).click();
    await bob.getByLabel("Room password").fill("not-the-password");
    await bob.getByRole("button", { name: "Join" }).click();
    const alert = bob.getByRole("alert").filter({ hasText: "Wrong password." });
    await alert.waitFor();
  });

  await step("bob joins with the right password", async () => {
    await bob.getByLabel("Room password").fill(password);
    await bob.getByRole("button", { name: "Join" }).click();
    await bob.getByRole("heading", { name: roomName }).waitFor();
    check(bob.url() === roomUrl, `bob is at ${bob.url()}, not ${roomUrl}`);
  });

  await step("chat flows both ways", async () => {
    await sendChat(alice, "hello from alice");
    await seesMessage(alice, "hello from alice");
    await seesMessage(bob, "hello from alice");
    await sendChat(bob, "hi alice, bob here");
    await seesMessage(bob, "hi alice, bob here");
    await seesMessage(alice, "hi alice, bob here");
    // Optimistic own messages are replaced by the stored one, never shown twice.
    const copies = await alice.getByTestId("chat-message").filter({ hasText: "hello from alice" }).count();
    check(copies === 1, `alice sees her message ${copies} times`);
    check((await alice.getByTestId("chat-pending").count()) === 0, "a pending message is left");
  });

  let trackTitle;
  await step("alice searches the catalog and adds a track to the queue", async () => {
    await alice.getByLabel("Search tracks to add").fill(TRACK_QUERY);
    const add = alice.getByRole("button", { name: /^Add .* to the queue$/ }).first();
    await add.waitFor();
    const label = await add.getAttribute("aria-label");
    await add.click();
    trackTitle = label.replace(/^Add /, "").replace(/ to the queue$/, "");
    // The queue shows it, or (an idle room starts what is added) it is now playing.
    await Promise.any([
      alice.getByRole("list", { name: "Upcoming tracks" }).getByText(trackTitle).waitFor(),
      alice.getByTestId("now-playing-title").getByText(trackTitle).waitFor(),
    ]);
  });

  await step("the owner plays it and both hear it within 50 ms of each other", async () => {
    const play = alice.getByRole("group", { name: "Playback controls" }).getByRole("button", { name: "Play" });
    if (await play.isVisible()) await play.click();
    await Promise.all([listens(alice, trackTitle), listens(bob, trackTitle)]);
    await inSync(alice, bob, "both listening");
  });

  await step("bob reloads, resumes in sync, and the chat history is intact", async () => {
    await bob.reload();
    await bob.getByRole("heading", { name: roomName }).waitFor();
    await listens(bob, trackTitle);
    await inSync(alice, bob, "after bob's reload");
    await seesMessage(bob, "hello from alice");
    await seesMessage(bob, "hi alice, bob here");
    const count = await bob.getByTestId("chat-message").count();
    check(count === 2, `bob sees ${count} messages after the reload, expected 2`);
    await sendChat(alice, "still here?");
    await seesMessage(bob, "still here?");
  });

  await step("the interface switches to Russian", async () => {
    await bob.getByLabel("Language").selectOption("ru");
    await bob.getByRole("heading", { name: "Чат" }).waitFor();
    await bob.getByLabel("Язык").selectOption("en");
    await bob.getByRole("heading", { name: "Chat" }).waitFor();
  });

  await step("alice edits her profile", async () => {
    await alice.getByRole("link", { name: "Profile" }).click();
    await alice.getByLabel("Display name").fill("Alice");
    await alice.getByRole("button", { name: "Save" }).click();
    await alice.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await alice.getByRole("heading", { name: "Alice" }).waitFor();
  });

  await step("screenshots of discover, room and profile at desktop and phone widths", async () => {
    for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
      await bob.setViewportSize(viewport);
      await bob.goto(`${BASE}/`);
      await bob.getByRole("region", { name: "Live rooms" }).getByRole("link", { name: roomName }).waitFor();
      await shot(bob, `discover-${label}`);
      await bob.goto(roomUrl);
      await seesMessage(bob, "still here?");
      await shot(bob, `room-${label}`);
      await bob.goto(`${BASE}/profile`);
      await bob.getByRole("heading", { name: "bob" }).waitFor();
      await shot(bob, `profile-${label}`);
    }
    await bob.setViewportSize(DESKTOP);
  });

  await step("an expired session goes back to sign-in and returns to the room", async () => {
    await bob.goto(roomUrl);
    await bob.getByRole("heading", { name: roomName }).waitFor();
    await bob.evaluate(() => {
      const session = JSON.parse(localStorage.getItem("tunewave.session"));
      session.token = "expired.invalid.token";
      localStorage.setItem("tunewave.session", JSON.stringify(session));
    });
    await bob.reload();
    await bob.waitForURL(/\/signin\?next=/);
    await bob.getByText("Your session ended").waitFor();
    await bob.getByLabel("Your name").fill("bob");
    await bob.getByRole("button", { name: "Enter" }).click();
    await bob.waitForURL(roomUrl);
    await bob.getByRole("heading", { name: roomName }).waitFor();
  });

  await step("nothing was blocked by the Content-Security-Policy", async () => {
    check(cspViolations.length === 0, `CSP violations:\n${cspViolations.join("\n")}`);
  });
} catch {
  failed = true;
} finally {
  await browser.close();
}

console.log(`\n${results.filter((r) => r.ok).length}/${results.length} steps passed`);
console.log(`screenshots:\n${screenshots.map((file) => `  ${file}`).join("\n")}`);
process.exit(failed ? 1 : 0);
