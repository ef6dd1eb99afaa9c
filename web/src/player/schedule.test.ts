import { describe, expect, it } from "vitest";

import { ClockSync } from "../sync";
import { createClockEstimator } from "./clock.ts";
import {
  correctionFor,
  expectedPositionMs,
  LOCAL_TUNING,
  type PlaybackAnchor,
  SPOTIFY_TUNING,
} from "./schedule.ts";

const playing: PlaybackAnchor = {
  entryId: "e1",
  trackId: "t1",
  durationMs: 200_000,
  playing: true,
  positionMs: 0,
  anchorServerMs: 1_000_000,
};

describe("expectedPositionMs", () => {
  it("advances with server time while playing", () => {
    expect(expectedPositionMs(playing, 1_012_345)).toBe(12_345);
  });

  it("holds the paused position whatever the time", () => {
    const paused = { ...playing, playing: false, positionMs: 42_000 };
    expect(expectedPositionMs(paused, 9_999_999)).toBe(42_000);
  });

  it("clamps to the track: never before 0, never past the end", () => {
    expect(expectedPositionMs(playing, 999_000)).toBe(0);
    expect(expectedPositionMs(playing, 1_000_000 + 500_000)).toBe(200_000);
  });
});

describe("correctionFor", () => {
  it("ignores drift inside the dead band", () => {
    expect(correctionFor(5, 10_000, LOCAL_TUNING)).toEqual({ kind: "none", rate: 1 });
    expect(correctionFor(-8, 10_000, LOCAL_TUNING)).toEqual({ kind: "none", rate: 1 });
  });

  it("slows a player that is ahead and speeds up one that is behind", () => {
    const ahead = correctionFor(100, 10_000, LOCAL_TUNING);
    const behind = correctionFor(-100, 10_000, LOCAL_TUNING);
    expect(ahead.kind).toBe("rate");
    expect(ahead.rate).toBeCloseTo(0.95, 5);
    expect(behind.rate).toBeCloseTo(1.05, 5);
  });

  it("closes small drift in the catch-up time, within the rate limit", () => {
    // 20 ms over 2 s: 1% faster.
    expect(correctionFor(-20, 10_000, LOCAL_TUNING).rate).toBeCloseTo(1.01, 5);
    expect(correctionFor(-399, 10_000, LOCAL_TUNING).rate).toBeCloseTo(1.05, 5);
  });

  it("seeks to the expected position when drift is large", () => {
    expect(correctionFor(401, 10_000, LOCAL_TUNING)).toEqual({ kind: "seek", positionMs: 10_000, rate: 1 });
    expect(correctionFor(-5_000, 7_000, LOCAL_TUNING)).toEqual({ kind: "seek", positionMs: 7_000, rate: 1 });
  });

  it("never asks Spotify for a rate: small drift is left, large drift is a seek", () => {
    expect(correctionFor(200, 1_000, SPOTIFY_TUNING)).toEqual({ kind: "none", rate: 1 });
    expect(correctionFor(-300, 1_000, SPOTIFY_TUNING)).toEqual({ kind: "seek", positionMs: 1_000, rate: 1 });
  });
});

describe("the room's clock", () => {
  it("is the live channel's estimator: pings stamped locally, pongs move server time", () => {
    let local = 10_000;
    const clock = createClockEstimator(new ClockSync({ now: () => local }));
    expect(clock.offsetMs()).toBeNull();
    expect(clock.serverNowMs()).toBe(10_000);
    const ping = clock.makePing();
    expect(ping).toEqual({ type: "ping", t0: 10_000 });
    local = 10_040; // the pong arrives 40 ms later; the server was 5 s ahead
    clock.addPong(ping.t0, 15_020, 15_020);
    expect(clock.offsetMs()).toBe(5_000);
    local = 20_000;
    expect(clock.serverNowMs()).toBe(25_000);
  });

  it("ignores an impossible pong", () => {
    const clock = createClockEstimator(new ClockSync({ now: () => 100 }));
    clock.addPong(100, 60, 50);
    expect(clock.offsetMs()).toBeNull();
  });
});
