// End-to-end tests of the web app in a real browser (playwright-core driving Debian's
// chromium, headless) against a running API. tests/e2e/test_web_e2e.py starts the API on a
// scratch database and runs this file; to run it by hand against `make run`:
//   TUNEWAVE_E2E_URL=http://127.0.0.1:8000 node web/e2e/run.mjs
// Screenshots go to TUNEWAVE_E2E_ARTIFACTS (default: test-artifacts/e2e).
//
// Besides the two-listener story, every screen (sign-in, Discover, a room with chat, the
// profile) is checked at 1280 and 390 px, light and dark, English and Russian: axe-core
// (WCAG 2.x A/AA and best practices; any serious or critical violation fails the run), no
// horizontal scrolling with very long room and user names, and a screenshot of each
// (`<screen>-<desktop|phone>-<light|dark>-<en|ru>.png`; the light English ones are also saved
// as `<screen>-<desktop|phone>.png`).
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
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
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
// 64 and 80 characters: the longest display name and room name the API accepts, with
// unbroken words, which is what pushes a layout sideways.
const LONG_USER = "Wolfeschlegelsteinhausenbergerdorff-Maximiliana-Konstantinopolous".slice(0, 64);
const LONG_ROOM = `Supercalifragilisticexpialidocious-Wohnzimmerkonzert-Nachtschicht ${Date.now() % 100000}`.slice(0, 80);
const a11y = [];

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

/** axe-core on the page as it is; records a summary line, returns serious/critical ones. */
async function axeCheck(page, screen) {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
      resultTypes: ["violations"],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 3).map((node) => `${node.target.join(" ")} ${node.failureSummary?.split("\n")[1] ?? ""}`),
    }));
  });
  const blocking = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const counts = ["critical", "serious", "moderate", "minor"]
    .map((impact) => `${violations.filter((v) => v.impact === impact).length} ${impact}`)
    .join(", ");
  a11y.push({ screen, counts, blocking, minor: violations.filter((v) => !blocking.includes(v)).map((v) => v.id) });
  return blocking;
}

/** The page must not scroll sideways. */
async function noSidewaysScroll(page, screen) {
  const { scrollWidth, clientWidth, culprit } = await page.evaluate(() => {
    const root = document.documentElement;
    let widest = null;
    for (const element of document.body.querySelectorAll("*")) {
      const right = element.getBoundingClientRect().right;
      if (right > root.clientWidth + 1 && (!widest || right > widest.right)) {
        widest = { right, what: `${element.tagName.toLowerCase()}.${String(element.className).slice(0, 80)}` };
      }
    }
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, culprit: widest };
  });
  check(
    scrollWidth <= clientWidth,
    `${screen}: the page scrolls sideways (${scrollWidth} > ${clientWidth} px; widest: ${JSON.stringify(culprit)})`,
  );
}

/** Switch language and theme with the header's own selectors (the first two selects). */
async function setLook(page, theme, language) {
  const selects = page.locator("header select");
  await selects.nth(0).selectOption(language);
  await selects.nth(1).selectOption(theme);
  await page.waitForFunction(
    ([t, l]) => document.documentElement.lang === l && document.documentElement.classList.contains("dark") === (t === "dark"),
    [theme, language],
  );
}

/**
 * One screen in every look: axe per theme (English), overflow and a screenshot per theme and
 * language. `ready(page, language)` waits until the screen shows what it should.
 */
async function checkScreen(page, screen, label, ready) {
  const blocking = [];
  for (const theme of ["light", "dark"]) {
    for (const language of ["en", "ru"]) {
      await setLook(page, theme, language);
      await ready(page, language);
      // Let transitions (colours, skeleton pulses) settle before measuring contrast.
      await page.waitForTimeout(250);
      await noSidewaysScroll(page, `${screen}-${label}-${theme}-${language}`);
      const name = `${screen}-${label}-${theme}-${language}`;
      await shot(page, name);
      if (theme === "light" && language === "en") {
        copyFileSync(path.join(ARTIFACTS, `${name}.png`), path.join(ARTIFACTS, `${screen}-${label}.png`));
      }
      if (language === "en") {
        for (const violation of await axeCheck(page, `${screen} ${label} ${theme}`)) blocking.push({ theme, ...violation });
      }
    }
  }
  await setLook(page, "light", "en");
  check(
    blocking.length === 0,
    `${screen} ${label}: serious/critical accessibility violations:\n${blocking
      .map((v) => `  [${v.theme}] ${v.id} (${v.impact}): ${v.help}\n    ${v.targets.join("\n    ")}`)
      .join("\n")}`,
  );
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

  let dave;
  let daveRoomUrl;
  await step("a newcomer with a very long name creates a room from the empty search result", async () => {
    // Dev sign-in takes short names; the profile takes up to 64 characters.
    dave = await signIn(await browser.newContext({ viewport: DESKTOP, locale: "en-US" }), "dave");
    await dave.getByRole("link", { name: "Profile" }).click();
    await dave.getByLabel("Display name").fill(LONG_USER);
    await dave.getByRole("button", { name: "Save" }).click();
    await dave.getByRole("heading", { name: LONG_USER }).waitFor();
    await dave.getByRole("link", { name: "Discover" }).click();
    await dave.getByLabel("Search rooms").fill(LONG_ROOM);
    const create = dave.getByRole("button", { name: `Create “${LONG_ROOM}”` });
    await create.click();
    const name = dave.getByLabel("Name", { exact: true });
    check((await name.inputValue()) === LONG_ROOM, "the create form is not prefilled with the searched name");
    await dave.getByRole("button", { name: "Create", exact: true }).click();
    await dave.waitForURL(/\/room\/[0-9a-f-]{36}$/);
    daveRoomUrl = dave.url();
    await dave.getByRole("heading", { name: LONG_ROOM }).waitFor();
  });

  await step("an empty room invites the first message and says why Play does nothing", async () => {
    await dave.getByTestId("chat-empty").getByText("No messages yet").waitFor();
    const play = dave.getByRole("group", { name: "Playback controls" }).getByRole("button", { name: "Play" });
    check(await play.isDisabled(), "Play is enabled with nothing to play");
    await dave.getByTestId("play-empty-hint").getByText("add a track to the queue first").waitFor();
    // The chat history can be reached with the keyboard.
    const scroller = dave.getByRole("region", { name: "Chat history (scrollable)" });
    check((await scroller.getAttribute("tabindex")) === "0", "the chat scroller is not focusable");
  });

  await step("the queue says who added a track; a guest chats and leaves with Leave", async () => {
    // Two tracks when the catalog has two matches (one may start playing at once), so one is
    // left in the queue to say who added it.
    await dave.getByLabel("Search tracks to add").fill(TRACK_QUERY);
    const adds = dave.getByRole("button", { name: /^Add .* to the queue$/ });
    await adds.first().waitFor();
    const second = (await adds.count()) > 1 ? await adds.nth(1).getAttribute("aria-label") : null;
    await adds.first().click();
    // The search clears itself once the track is added.
    await dave.waitForFunction(() => document.querySelector("form[role=search] input")?.value === "");
    if (second) {
      await dave.getByLabel("Search tracks to add").fill(TRACK_QUERY);
      await dave.getByRole("button", { name: second, exact: true }).click();
      await dave.getByTestId("queue-added-by").filter({ hasText: "added by you" }).first().waitFor();
    } else {
      console.log(`     only one track matches "${TRACK_QUERY}": "added by" not checked`);
    }
    await sendChat(dave, `hello from ${LONG_USER}`);
    await seesMessage(dave, "hello from");
    await bob.goto(daveRoomUrl);
    await bob.getByRole("heading", { name: LONG_ROOM }).waitFor();
    await sendChat(bob, "Bob says hi with an unbroken word: Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen");
    await seesMessage(dave, "Bob says hi");
    await bob.getByTestId("leave-room").click();
    await bob.waitForURL(`${BASE}/`);
    await bob.getByRole("heading", { name: "Discover" }).waitFor();
  });

  await step("errors are sentences in the user's language, never the server's text", async () => {
    await bob.goto(`${BASE}/room/not-a-uuid`);
    await bob.getByRole("alert").filter({ hasText: "Check the room address: it is not valid." }).waitFor();
    await setLook(bob, "light", "ru");
    await bob.getByRole("alert").filter({ hasText: "Проверьте поле «адрес комнаты»: значение не подходит." }).waitFor();
    await setLook(bob, "light", "en");
    await bob.goto(`${BASE}/room/00000000-0000-4000-8000-000000000000`);
    await bob.getByRole("alert").filter({ hasText: "This room does not exist" }).waitFor();
    const text = await bob.locator("main").innerText();
    check(!/room not found|Input should|: 4\d\d /.test(text), `raw server text on the page: ${text}`);
  });

  await step("after too many wrong passwords Join is disabled and counts down", async () => {
    const carol = await signIn(await browser.newContext({ viewport: PHONE, locale: "en-US" }), "carol");
    pages.push(carol);
    await carol.goto(roomUrl);
    const join = carol.getByTestId("join-button");
    for (let attempt = 0; attempt < 10; attempt++) {
      await carol.getByLabel("Room password").fill(`wrong-${attempt}`);
      if (await join.isDisabled()) break;
      await Promise.all([carol.waitForResponse((response) => response.url().endsWith("/join")), join.click()]);
      await carol.waitForFunction(() => !document.querySelector("[data-testid=join-button]")?.hasAttribute("aria-busy"));
    }
    await carol.getByRole("alert").filter({ hasText: /Too many wrong passwords\. Try again in \d+ s\./ }).waitFor();
    check(await join.isDisabled(), "Join is still enabled while locked");
    const first = await join.innerText();
    await carol
      .waitForFunction((before) => document.querySelector("[data-testid=join-button]")?.innerText !== before, first, {
        timeout: 3_000,
      })
      .catch(() => undefined);
    const later = await join.innerText();
    check(/\d+:\d\d/.test(first) && first !== later, `Join does not count down: "${first}" then "${later}"`);
    pages.splice(pages.indexOf(carol), 1);
    await carol.context().close();
  });

  await step("every screen: axe-core, no sideways scrolling, screenshots (2 widths × 2 themes × 2 languages)", async () => {
    const anonymous = await (await browser.newContext({ viewport: DESKTOP, locale: "en-US" })).newPage();
    pages.push(anonymous);
    anonymous.setDefaultTimeout(TIMEOUT_MS);
    await anonymous.goto(`${BASE}/signin`);
    const words = {
      en: { signin: "Listen together", discover: "Discover", chat: "Chat" },
      ru: { signin: "Слушайте вместе", discover: "Обзор", chat: "Чат" },
    };
    for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
      await anonymous.setViewportSize(viewport);
      await checkScreen(anonymous, "signin", label, (page, language) =>
        page.getByRole("heading", { name: words[language].signin }).waitFor(),
      );
      await dave.setViewportSize(viewport);
      await dave.goto(`${BASE}/`);
      await dave.locator("input[type=search]").first().fill(LONG_ROOM.slice(0, 40));
      await checkScreen(dave, "discover", label, async (page, language) => {
        await page.getByRole("heading", { name: words[language].discover }).waitFor();
        await page.getByRole("link", { name: LONG_ROOM }).first().waitFor();
      });
      await dave.goto(daveRoomUrl);
      await checkScreen(dave, "room", label, async (page, language) => {
        await page.getByRole("heading", { name: words[language].chat }).waitFor();
        await page.getByTestId("chat-message").filter({ hasText: "Bob says hi" }).waitFor();
      });
      await dave.goto(`${BASE}/profile`);
      await checkScreen(dave, "profile", label, (page) => page.getByRole("heading", { name: LONG_USER }).waitFor());
    }
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

if (a11y.length) {
  console.log("\naccessibility (axe-core, per screen: violations by impact):");
  for (const entry of a11y) {
    const extra = entry.minor.length ? `; moderate/minor: ${entry.minor.join(", ")}` : "";
    console.log(`  ${entry.screen.padEnd(28)} ${entry.counts}${extra}`);
    for (const v of entry.blocking) console.log(`    ${v.impact} ${v.id}: ${v.help}\n      ${v.targets.join("\n      ")}`);
  }
}

console.log(`\n${results.filter((r) => r.ok).length}/${results.length} steps passed`);
console.log(`screenshots:\n${screenshots.map((file) => `  ${file}`).join("\n")}`);
process.exit(failed ? 1 : 0);
