import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { parseSignInOptions } from "./apiStatus.ts";
import { StatusPanel } from "./StatusPanel.tsx";

/** A fetch that answers each path from a table, like the API would. */
function stubApi(routes: Record<string, [number, unknown]>) {
  const fetchMock = vi.fn(async (input: RequestInfo | URL) => {
    const path = String(input);
    const route = routes[path];
    if (!route) {
      return new Response('{"detail": "Not Found"}', { status: 404 });
    }
    const [status, body] = route;
    return new Response(JSON.stringify(body), { status });
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

afterEach(cleanup);

describe("StatusPanel", () => {
  it("shows the API as up and which sign-in options are enabled", async () => {
    stubApi({
      "/healthz": [200, { status: "ok" }],
      "/auth/config": [
        200,
        {
          google: { enabled: false, client_id: null, login_url: "/auth/google/login" },
          spotify: { enabled: true, client_id: "abc", login_url: "/auth/spotify/login" },
          dev_login_enabled: true,
        },
      ],
    });

    render(<StatusPanel />);

    expect(await screen.findByText("API is up")).toBeTruthy();
    const options = within(screen.getByRole("list", { name: "Sign-in options" }));
    const rows = options.getAllByRole("listitem").map((item) => item.textContent);
    expect(rows).toEqual(["Dev loginenabled", "Googleoff", "Spotifyenabled"]);
  });

  it("says the API is unreachable when /healthz fails", async () => {
    const fetchMock = stubApi({ "/healthz": [503, { detail: "starting" }] });

    render(<StatusPanel />);

    expect(await screen.findByText("API unreachable")).toBeTruthy();
    expect(screen.getByText("/healthz: 503 starting")).toBeTruthy();
    expect(screen.queryByRole("list", { name: "Sign-in options" })).toBeNull();
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});

describe("parseSignInOptions", () => {
  it("reads each provider's enabled flag and says null for what the API left out", () => {
    expect(parseSignInOptions({ dev_login_enabled: false, google: { enabled: true } })).toEqual({
      devLogin: false,
      google: true,
      spotify: null,
    });
    expect(parseSignInOptions("nonsense")).toEqual({
      devLogin: null,
      google: null,
      spotify: null,
    });
  });
});
