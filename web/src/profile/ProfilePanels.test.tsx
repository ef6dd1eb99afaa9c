import { cleanup, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { renderIn, stubApi } from "../test/render.tsx";
import { HistoryList, LinkedProviders, TopLists } from "./ProfilePanels.tsx";

afterEach(cleanup);

const config = (spotify: boolean) => ({
  dev_login_enabled: true,
  google: { enabled: false, login_url: "" },
  spotify: { enabled: spotify, login_url: "" },
});

describe("linked accounts", () => {
  it("do not tell users how the server is configured", async () => {
    stubApi({ "/auth/config": config(false), "/auth/links": [] });
    const { container } = renderIn("en", <LinkedProviders />);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(container.textContent).not.toMatch(/not configured|Google/);
    expect(container.textContent).toBe("");
  });

  it("list what is linked and offer only what can be linked", async () => {
    stubApi({ "/auth/config": config(true), "/auth/links": [{ provider: "google", status: "active" }] });
    renderIn("en", <LinkedProviders />);
    expect(await screen.findByText("Google: linked")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Link Spotify" })).toBeTruthy();
    expect(document.body.textContent).not.toMatch(/not configured|Spotify: /);
  });
});

describe("listening statistics", () => {
  it("plural plays in Russian and dates through Intl in the page's language", async () => {
    stubApi({
      "/users/me/summary": {
        top_genres: [
          { slug: "techno", name: "Techno", plays: 1 },
          { slug: "jazz", name: "Jazz", plays: 3 },
          { slug: "folk", name: "Folk", plays: 11 },
        ],
        top_artists: [],
      },
      "/users/me/history": {
        items: [
          {
            id: "h1",
            track: { title: "Alison", artists: ["Slowdive"] },
            room: { name: "Night Shift" },
            ms_played: 60_000,
            played_at: "2026-12-01T03:39:25Z",
          },
        ],
        next_before: null,
      },
    });
    renderIn("ru", <><TopLists /><HistoryList /></>);
    expect(await screen.findByText(/1 прослушивание$/)).toBeTruthy();
    expect(screen.getByText(/3 прослушивания$/)).toBeTruthy();
    expect(screen.getByText(/11 прослушиваний$/)).toBeTruthy();
    // Each top genre leads to its page.
    expect(screen.getByRole("link", { name: "Jazz" }).getAttribute("href")).toBe("/genre/jazz");
    const when = await screen.findByText((_, element) => element?.tagName === "TIME");
    expect(when.textContent).toMatch(/2026/);
    expect(when.textContent).not.toMatch(/AM|PM|12\/1\/2026/);
  });
});
