import { afterEach, describe, expect, it, vi } from "vitest";

import { getToken, resetSessionCache, signIn } from "../shared/session.ts";
import { ensureFreshSession, fetchTicket, renewSession } from "./live-auth.ts";

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
  resetSessionCache();
});

function answer(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

describe("live-auth", () => {
  it("asks for a ticket with the session's token", async () => {
    signIn("tok", 3600);
    const seen: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (request: Request) => {
        seen.push(`${request.method} ${new URL(request.url).pathname} ${request.headers.get("Authorization")}`);
        return answer({ ticket: "tkt", expires_in: 30 });
      }),
    );
    expect(await fetchTicket()).toBe("tkt");
    expect(seen).toEqual(["POST /auth/ws-ticket Bearer tok"]);
  });

  it("renews once however many ask at the same time, and stores the new token", async () => {
    signIn("old", 3600);
    const fetchMock = vi.fn(async () => answer({ access_token: "new", token_type: "bearer", expires_in: 3600 }));
    vi.stubGlobal("fetch", fetchMock);
    const results = await Promise.all([renewSession(), renewSession(), renewSession()]);
    expect(results).toEqual([true, true, true]);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(getToken()).toBe("new");
  });

  it("a refused renewal ends the session", async () => {
    signIn("old", 3600);
    vi.stubGlobal("fetch", vi.fn(async () => answer({ detail: "session too old: sign in again" }, 401)));
    expect(await renewSession()).toBe(false);
    expect(getToken()).toBeNull();
  });

  it("renews only when the session ends within the margin", async () => {
    const renew = vi.fn(async () => true);
    const now = Date.now();
    signIn("tok", 3600, now);
    expect(await ensureFreshSession(now, 600_000, renew)).toBe(true);
    expect(renew).not.toHaveBeenCalled();
    expect(await ensureFreshSession(now + 3_300_000, 600_000, renew)).toBe(true);
    expect(renew).toHaveBeenCalledTimes(1);
  });
});
