import { describe, expect, it } from "vitest";

import { AutoplayBlockedError } from "./player.ts";
import {
  nextLatencyEstimate,
  type SdkPlayer,
  type SdkState,
  SpotifyPlayer,
  startPositionMs,
} from "./spotify-player.ts";

/** A Web Playback SDK stand-in: records listeners, becomes ready at once. */
function fakeSdk() {
  const listeners: Record<string, ((payload: never) => void)[]> = {};
  const sdk: SdkPlayer & { emit: (event: string, payload: unknown) => void; activated: boolean } = {
    activated: false,
    async connect() {
      queueMicrotask(() => sdk.emit("ready", { device_id: "dev-1" }));
      return true;
    },
    disconnect() {},
    async activateElement() {
      sdk.activated = true;
    },
    async setVolume() {},
    addListener(event: string, callback: (payload: never) => void) {
      (listeners[event] ??= []).push(callback);
    },
    emit(event: string, payload: unknown) {
      for (const callback of listeners[event] ?? []) callback(payload as never);
    },
  } as never;
  return sdk;
}

function setup(latencyMs: number) {
  let now = 1_000_000;
  const sdk = fakeSdk();
  const calls: { url: string; body: unknown }[] = [];
  const status = { code: 204, retryAfter: null as string | null };
  const player = new SpotifyPlayer({
    createSdkPlayer: async () => sdk,
    getAccessToken: async () => "spotify-token",
    nowMs: () => now,
    apiUrl: "https://spotify.test/v1",
    fetch: async (input, init) => {
      calls.push({ url: String(input), body: init?.body ? JSON.parse(String(init.body)) : null });
      now += latencyMs; // the command takes this long
      const headers = status.retryAfter ? { "Retry-After": status.retryAfter } : undefined;
      return new Response(null, { status: status.code, headers });
    },
  });
  return { player, sdk, calls, status, advance: (ms: number) => (now += ms), now: () => now };
}

const track = { id: "4uLU6hMCjMI75M1A2tKUQC", durationMs: 200_000, title: "T" };

describe("Spotify scheduling math", () => {
  it("asks for the expected position plus the command latency, inside the track", () => {
    expect(startPositionMs(10_000, 120, 200_000)).toBe(10_120);
    expect(startPositionMs(-50, 20, 200_000)).toBe(0);
    expect(startPositionMs(199_990, 500, 200_000)).toBe(199_999);
  });

  it("averages latency, the first sample replacing the guess", () => {
    expect(nextLatencyEstimate(null, 200)).toBe(200);
    expect(nextLatencyEstimate(200, 100)).toBeCloseTo(170, 5);
  });
});

describe("SpotifyPlayer", () => {
  it("refuses to start before a click activated the element", async () => {
    const { player } = setup(0);
    await expect(player.start(track, 1_000)).rejects.toBeInstanceOf(AutoplayBlockedError);
  });

  it("starts through Connect on its own device at position_ms, compensating latency", async () => {
    const { player, sdk, calls } = setup(80);
    await player.unlock();
    expect(sdk.activated).toBe(true);
    await player.start(track, 30_000);
    expect(calls[0]).toEqual({
      url: "https://spotify.test/v1/me/player/play?device_id=dev-1",
      body: { uris: [`spotify:track:${track.id}`], position_ms: 30_000 },
    });
    expect(player.latencyEstimateMs()).toBe(80);
    await player.start(track, 40_000);
    expect(calls[1]?.body).toEqual({ uris: [`spotify:track:${track.id}`], position_ms: 40_080 });
  });

  it("extrapolates the position from the SDK's last state", async () => {
    const { player, sdk, advance, now } = setup(0);
    await player.unlock();
    await player.start(track, 5_000);
    expect(player.positionMs()).toBeNull(); // Spotify has not confirmed yet
    const state: SdkState = {
      paused: false,
      position: 5_000,
      timestamp: now(),
      track_window: { current_track: { id: track.id } },
    };
    sdk.emit("player_state_changed", state);
    advance(1_500);
    expect(player.positionMs()).toBe(6_500);
    expect(player.currentTrackId()).toBe(track.id);
    sdk.emit("player_state_changed", { ...state, paused: true, position: 6_000 });
    advance(1_000);
    expect(player.positionMs()).toBe(6_000);
  });

  it("seeks with latency compensation and backs off after a 429", async () => {
    const { player, calls, status, advance } = setup(50);
    await player.unlock();
    await player.start(track, 0);
    player.seek(20_000);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(calls[1]?.url).toBe("https://spotify.test/v1/me/player/seek?position_ms=20050&device_id=dev-1");
    status.code = 429;
    status.retryAfter = "2";
    player.seek(30_000);
    await new Promise((resolve) => setTimeout(resolve, 0));
    player.seek(31_000); // inside Retry-After: not sent
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(calls).toHaveLength(3);
    status.code = 204;
    advance(2_500);
    player.seek(32_000);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(calls).toHaveLength(4);
  });
});
