import { cleanup, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { matchRoute } from "../shared/router.ts";
import { renderIn, stubApi } from "../test/render.tsx";
import { GenrePage } from "./GenrePage.tsx";
import { GenresToExplore } from "./GenresToExplore.tsx";

afterEach(cleanup);

const vocabulary = [
  { slug: "dream pop", name: "Dream Pop", track_count: 4 },
  { slug: "shoegaze", name: "Shoegaze", track_count: 4 },
];

const track = (title: string, genres: string[] = ["dream pop"]) => ({
  spotify_id: `id-${title}`.padEnd(22, "x").slice(0, 22),
  title,
  artists: ["Beach House"],
  album: null,
  duration_ms: 200_000,
  image_url: null,
  genres,
});

const room = (name: string, nowPlaying: ReturnType<typeof track> | null, online = 0) => ({
  id: `00000000-0000-0000-0000-${name.length.toString().padStart(12, "0")}`,
  name,
  description: "",
  is_private: false,
  genres: ["dream pop"],
  member_count: 3,
  online_count: online,
  is_demo: false,
  now_playing: nowPlaying,
});

const page = {
  genre: { slug: "dream pop", name: "Dream Pop" },
  track_count: 4,
  rooms: [
    { room: room("Haze", track("Myth"), 2), playing_now: true, tagged: false },
    { room: room("Quiet Club", null), playing_now: false, tagged: true },
  ],
  top_tracks: [
    { track: track("Myth"), recent_plays: 21 },
    { track: track("Space Song"), recent_plays: 0 },
  ],
  people: [
    {
      user: { id: "u1", display_name: "Ann", avatar_url: null, is_demo: false },
      reason: "86% of what they play is dream pop",
      reason_parts: [{ code: "share_of_plays", params: { genre: "dream pop", percent: 86 } }],
      genre_plays: 6,
      favourite: false,
    },
  ],
  related: [{ slug: "shoegaze", name: "Shoegaze" }],
};

describe("the genre page", () => {
  it("shows live rooms, top tracks, people with their reason and related genres", async () => {
    stubApi({ "/genres": vocabulary, "/genres/dream%20pop": page });
    renderIn("en", <GenrePage slug="dream pop" />);

    expect(await screen.findByRole("heading", { name: "Dream Pop" })).toBeTruthy();
    expect(screen.getByText("4 tracks in the catalog")).toBeTruthy();
    const rooms = within(screen.getByRole("region", { name: "Rooms" }));
    expect(rooms.getByRole("link", { name: "Haze" }).getAttribute("href")).toMatch(/^\/room\//);
    expect(rooms.getByText("Now playing Myth by Beach House")).toBeTruthy();
    expect(rooms.getByText("2 here now")).toBeTruthy();
    expect(rooms.getByText("Tagged with this genre; nothing playing")).toBeTruthy();
    const tracks = within(screen.getByRole("region", { name: "Top tracks" }));
    expect(tracks.getAllByRole("listitem").map((item) => item.textContent)).toEqual([
      "Myth Beach House · 21 plays this month",
      "Space Song Beach House",
    ]);
    const people = within(screen.getByRole("region", { name: "People who love it" }));
    expect(await people.findByText("86% of what they play is Dream Pop")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Shoegaze" }).getAttribute("href")).toBe("/genre/shoegaze");
  });

  it("speaks Russian, reasons included", async () => {
    stubApi({ "/genres": vocabulary, "/genres/dream%20pop": page });
    renderIn("ru", <GenrePage slug="dream pop" />);
    expect(await screen.findByText("4 трека в каталоге")).toBeTruthy();
    expect(await screen.findByText("86% прослушиваний — Dream Pop")).toBeTruthy();
    expect(screen.getByText("Сейчас играет Myth — Beach House")).toBeTruthy();
  });

  it("says an unknown genre does not exist, in the user's language", async () => {
    stubApi({
      "/genres/nope": new Response(JSON.stringify({ detail: "genre 'nope' not found", code: "genre_not_found" }), {
        status: 404,
      }),
    });
    renderIn("en", <GenrePage slug="nope" />);
    expect(await screen.findByRole("alert")).toHaveProperty("textContent", "There is no such genre.");
  });

  it("has its own route, with encoded slugs", () => {
    expect(matchRoute("/genre/drum%20%26%20bass")).toEqual({ name: "genre", slug: "drum & bass" });
    expect(matchRoute("/genre/%E0%A4%A")).toEqual({ name: "not-found" });
  });
});

const explore = (items: unknown[]) => ({ items, graph: "published", graph_built_at: "2026-12-02T00:00:00Z" });

describe("genres to explore", () => {
  it("give each genre its reason, a room playing it now and tracks to try", async () => {
    stubApi({
      "/genres": vocabulary,
      "/users/me/genres/explore": (url: URL) => {
        expect(url.searchParams.get("k")).toBe("5");
        return explore([
          {
            genre: { slug: "dream pop", name: "Dream Pop" },
            score: 0.9,
            reason: "listeners of shoegaze also play dream pop",
            reason_parts: [{ code: "listeners_also_play", params: { genre: "shoegaze", also: "dream pop" } }],
            basis: "adjacent",
            room: room("Haze", track("Myth")),
            tracks: [track("Myth"), track("Space Song")],
          },
          {
            genre: { slug: "techno", name: "Techno" },
            score: 8,
            reason: "played by 8 listeners on TuneWave",
            reason_parts: [{ code: "popular_genre", params: { listeners: 8 } }],
            basis: "popular",
            room: null,
            tracks: [],
          },
        ]);
      },
    });
    renderIn("en", <GenresToExplore />);

    const items = await screen.findAllByTestId("genre-to-explore");
    expect(items).toHaveLength(2);
    const first = within(items[0]!);
    expect(first.getByRole("link", { name: "Dream Pop" }).getAttribute("href")).toBe("/genre/dream%20pop");
    expect(await first.findByText("listeners of Shoegaze also play Dream Pop")).toBeTruthy();
    expect(first.getByRole("link", { name: "Haze" })).toBeTruthy();
    expect(first.getByText("Try: Myth (Beach House) · Space Song (Beach House)")).toBeTruthy();
    const second = within(items[1]!);
    expect(second.getByText("played by 8 listeners on TuneWave")).toBeTruthy();
    expect(second.queryByText(/Playing now in/)).toBeNull();
  });

  it("tell a listener with no plays why these are suggested, in Russian plurals", async () => {
    stubApi({
      "/genres": vocabulary,
      "/users/me/genres/explore": explore([
        {
          genre: { slug: "shoegaze", name: "Shoegaze" },
          score: 3,
          reason: "popular on TuneWave (3 listeners): a start until you have plays",
          reason_parts: [{ code: "popular_genre_to_start", params: { listeners: 3 } }],
          basis: "popular",
          room: null,
          tracks: [],
        },
      ]),
    });
    renderIn("ru", <GenresToExplore />);
    expect(
      await screen.findByText("популярен на TuneWave (3 слушателя): с него можно начать, пока у вас нет прослушиваний"),
    ).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Жанры, которые стоит открыть" })).toBeTruthy();
  });

  it("say how many listeners with the listener's taste play a genre, in Russian", async () => {
    stubApi({
      "/genres": vocabulary,
      "/users/me/genres/explore": explore([
        {
          genre: { slug: "dream pop", name: "Dream Pop" },
          score: 1.4,
          reason: "3 listeners with your taste play dream pop",
          reason_parts: [{ code: "taste_neighbours_play", params: { genre: "dream pop", listeners: 3 } }],
          basis: "taste_neighbours",
          room: null,
          tracks: [track("Myth")],
        },
      ]),
    });
    renderIn("ru", <GenresToExplore />);
    const item = within((await screen.findAllByTestId("genre-to-explore"))[0]!);
    expect(await item.findByText("3 слушателя с похожим на ваш вкусом слушают Dream Pop")).toBeTruthy();
  });

  it("stay hidden when there is nothing to suggest or the call fails", async () => {
    stubApi({ "/users/me/genres/explore": explore([]) });
    const { container } = renderIn("en", <GenresToExplore />);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(container.textContent).toBe("");
  });
});
