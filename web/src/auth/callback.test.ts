import { afterEach, describe, expect, it } from "vitest";

import { matchRoute } from "../shared/router.ts";
import { getSession, jwtExpiryMs, resetSessionCache, signIn, signOut } from "../shared/session.ts";
import { parseCallbackFragment, rememberNext, takeNext } from "./callback.ts";

afterEach(() => {
  localStorage.clear();
  sessionStorage.clear();
  resetSessionCache();
});

describe("the sign-in callback", () => {
  it("reads the token and its lifetime from the fragment", () => {
    expect(parseCallbackFragment("#access_token=abc.def&token_type=bearer&expires_in=3600")).toEqual({
      kind: "token",
      token: "abc.def",
      expiresInS: 3600,
    });
  });

  it("reads a provider error", () => {
    expect(parseCallbackFragment("#error=access_denied&error_description=You%20said%20no")).toEqual({
      kind: "error",
      code: "access_denied",
      description: "You said no",
    });
    expect(parseCallbackFragment("")).toEqual({ kind: "empty" });
  });

  it("returns to the page that was wanted, never to another site", () => {
    rememberNext("/room/abc");
    expect(takeNext()).toBe("/room/abc");
    expect(takeNext()).toBe("/");
    rememberNext("//evil.example/");
    expect(takeNext()).toBe("/");
    expect(matchRoute("/signin?next=%2Froom%2Fx")).toEqual({ name: "signin", next: "/room/x" });
    expect(matchRoute("/signin?next=https://evil.example")).toEqual({ name: "signin", next: "/" });
  });
});

describe("the session", () => {
  it("expires at expires_in, or at the token's own exp", () => {
    signIn("t", 60, 1_000_000);
    expect(getSession(1_000_000)?.token).toBe("t");
    expect(getSession(1_000_000 + 60_000)).toBeNull();
    const payload = btoa(JSON.stringify({ exp: 2_000 })).replace(/=+$/, "");
    expect(jwtExpiryMs(`h.${payload}.s`)).toBe(2_000_000);
  });

  it("survives a reload and is forgotten on sign-out", () => {
    signIn("kept", 3600);
    resetSessionCache();
    expect(getSession()?.token).toBe("kept");
    signOut();
    expect(getSession()).toBeNull();
  });
});

describe("routes", () => {
  it("matches the app's screens", () => {
    expect(matchRoute("/")).toEqual({ name: "discover" });
    expect(matchRoute("/room/3f1c")).toEqual({ name: "room", roomId: "3f1c" });
    expect(matchRoute("/profile/")).toEqual({ name: "profile" });
    expect(matchRoute("/nope")).toEqual({ name: "not-found" });
    // The API owns /rooms/{id}: the app's room page must live elsewhere to survive a reload.
    expect(matchRoute("/rooms/3f1c")).toEqual({ name: "not-found" });
  });
});
