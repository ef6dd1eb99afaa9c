import { describe, expect, it, vi } from "vitest";

import { ApiError, fetchJson } from "./fetchJson.ts";

function stubFetch(status: number, body: string) {
  const fetchMock = vi.fn(async () => new Response(body, { status }));
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

describe("fetchJson", () => {
  it("returns the parsed body and asks for JSON", async () => {
    const fetchMock = stubFetch(200, '{"status": "ok"}');

    await expect(fetchJson("/healthz")).resolves.toEqual({ status: "ok" });

    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [path, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(path).toBe("/healthz");
    expect(new Headers(init.headers).get("Accept")).toBe("application/json");
  });

  it("throws an ApiError with the status and the API's detail", async () => {
    stubFetch(404, '{"detail": "Room not found"}');

    const error = await fetchJson("/rooms/x").catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, detail: "Room not found" });
    expect((error as ApiError).message).toBe("/rooms/x: 404 Room not found");
  });

  it("refuses a body that is not JSON, such as an HTML error page", async () => {
    stubFetch(200, "<!doctype html><title>502</title>");

    await expect(fetchJson("/healthz")).rejects.toThrow("/healthz: the response is not JSON");
  });
});
