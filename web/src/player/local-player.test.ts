import { describe, expect, it } from "vitest";

import { type Anchor, contextTimeFor, trackTimeAt } from "./local-player.ts";
import { hashString, notesBetween, voiceFor } from "./synth.ts";

describe("synthesised tracks", () => {
  it("are the same for the same id and differ between ids", () => {
    expect(voiceFor("track-a")).toEqual(voiceFor("track-a"));
    expect(voiceFor("track-a")).not.toEqual(voiceFor("track-b"));
    expect(hashString("abc")).toBe(hashString("abc"));
  });

  it("give the same notes for a window however it is split", () => {
    const voice = voiceFor("4uLU6hMCjMI75M1A2tKUQC");
    const whole = notesBetween(voice, 10_000, 14_000);
    const parts = [...notesBetween(voice, 10_000, 11_234), ...notesBetween(voice, 11_234, 14_000)];
    expect(parts).toEqual(whole);
    expect(whole.length).toBeGreaterThan(4);
    for (const note of whole) {
      expect(note.atMs).toBeGreaterThanOrEqual(10_000);
      expect(note.atMs).toBeLessThan(14_000);
      expect(note.frequencyHz).toBeGreaterThan(20);
    }
  });
});

describe("track time on the audio clock", () => {
  it("maps both ways at any rate", () => {
    const anchor: Anchor = { trackMs: 30_000, contextMs: 1_000, rate: 1.05 };
    expect(trackTimeAt(anchor, 3_000)).toBeCloseTo(32_100, 6);
    expect(contextTimeFor(anchor, 32_100)).toBeCloseTo(3_000, 6);
  });
});
