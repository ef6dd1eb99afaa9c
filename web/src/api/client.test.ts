import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { getToken, resetSessionCache, signIn } from "../shared/session.ts";
import { makeI18n } from "../shared/i18n.ts";
import { ApiError, createApiClient, detailText, errorText, unwrap } from "./client.ts";

type Handler = (request: Request) => Response | Promise<Response>;

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

function clientWith(handler: Handler) {
  const seen: Request[] = [];
  const client = createApiClient(async (request) => {
    seen.push(request);
    return handler(request);
  });
  return { client, seen };
}

beforeEach(() => {
  localStorage.clear();
  resetSessionCache();
});
afterEach(() => {
  localStorage.clear();
  resetSessionCache();
});

describe("the typed client", () => {
  it("sends the session's bearer token and the typed path and query", async () => {
    signIn("tok-1", 3600);
    const { client, seen } = clientWith(() => json(200, []));
    await unwrap(client.GET("/rooms/", { params: { query: { q: "jazz", limit: 5 } } }));
    const request = seen[0]!;
    expect(request.headers.get("Authorization")).toBe("Bearer tok-1");
    const url = new URL(request.url);
    expect(url.pathname).toBe("/rooms/");
    expect(url.searchParams.get("q")).toBe("jazz");
    expect(url.searchParams.get("limit")).toBe("5");
  });

  it("turns an error answer into an ApiError with the API's code, said in the user's language", async () => {
    const { client } = clientWith(() => json(403, { detail: "wrong password", code: "wrong_password" }));
    const error = await unwrap(
      client.POST("/rooms/{room_id}/join", {
        params: { path: { room_id: "3f1c5b0e-1b2c-4d5e-8f90-123456789abc" } },
        body: { password: "nope" },
      }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 403, detail: "wrong password", code: "wrong_password" });
    expect(errorText(error, makeI18n("ru").t)).toBe("Неверный пароль.");
  });

  it("ends the session on a 401 to an authenticated call", async () => {
    signIn("expired-token", 3600);
    const { client } = clientWith(() => json(401, { detail: "token expired" }));
    await expect(unwrap(client.GET("/users/me"))).rejects.toMatchObject({ status: 401 });
    expect(getToken()).toBeNull();
  });

  it("reads validation errors as one line", () => {
    expect(detailText([{ msg: "too short" }, { msg: "not a genre" }])).toBe("too short; not a genre");
    expect(detailText({ odd: true })).toBeNull();
  });
});
