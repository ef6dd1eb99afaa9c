import { describe, expect, it } from "vitest";

import { AutoplayBlockedError, type PlayableTrack, type Player } from "./player.ts";
import { LOCAL_TUNING, type PlaybackAnchor } from "./schedule.ts";
import { SyncController } from "./sync-controller.ts";

/** A player whose position is whatever the test sets: the controller's decisions are visible. */
class ScriptedPlayer implements Player {
  readonly kind = "local" as const;
  allowed = true;
  track: string | null = null;
  position: number | null = null;
  rate = 1;
  log: string[] = [];
  canPlay() {
    return this.allowed;
  }
  async unlock() {
    this.allowed = true;
    this.log.push("unlock");
  }
  async start(track: PlayableTrack, positionMs: number) {
    if (!this.allowed) throw new AutoplayBlockedError();
    this.track = track.id;
    this.position = positionMs;
    this.log.push(`start ${track.id} ${positionMs}`);
  }
  pause() {
    this.track = null;
    this.position = null;
    this.log.push("pause");
  }
  seek(positionMs: number) {
    this.position = positionMs;
    this.log.push(`seek ${positionMs}`);
  }
  setRate(rate: number) {
    this.rate = rate;
    this.log.push(`rate ${rate.toFixed(3)}`);
  }
  positionMs() {
    return this.position;
  }
  currentTrackId() {
    return this.track;
  }
  setVolume() {}
  destroy() {}
}

const track: PlayableTrack = { id: "t1", durationMs: 180_000, title: "One" };
const anchor: PlaybackAnchor = {
  entryId: "e1",
  trackId: "t1",
  durationMs: 180_000,
  playing: true,
  positionMs: 0,
  anchorServerMs: 50_000,
};

function setup(serverNow: number) {
  const clock = { now: serverNow, serverNowMs() { return this.now; } };
  const player = new ScriptedPlayer();
  return { clock, player, controller: new SyncController(player, clock, LOCAL_TUNING) };
}

describe("SyncController", () => {
  it("starts a late joiner mid-track at the server position", async () => {
    const { player, controller } = setup(80_000);
    const result = await controller.tick(anchor, track);
    expect(result.state).toBe("playing");
    expect(player.log).toEqual(["start t1 30000"]);
  });

  it("nudges the rate for small drift and seeks for large drift", async () => {
    const { clock, player, controller } = setup(80_000);
    await controller.tick(anchor, track);
    clock.now = 81_000;
    player.position = 31_100; // 100 ms ahead
    const nudged = await controller.tick(anchor, track);
    expect(nudged.driftMs).toBe(100);
    expect(player.rate).toBeCloseTo(0.95, 5);
    player.position = 31_000; // back in step: rate returns to 1
    await controller.tick(anchor, track);
    expect(player.rate).toBe(1);
    player.position = 29_000; // 2 s behind
    const sought = await controller.tick(anchor, track);
    expect(sought.correction).toEqual({ kind: "seek", positionMs: 31_000, rate: 1 });
    expect(player.position).toBe(31_000);
  });

  it("reports 'blocked' until a click unlocks sound, then starts in place", async () => {
    const { clock, player, controller } = setup(60_000);
    player.allowed = false;
    expect((await controller.tick(anchor, track)).state).toBe("blocked");
    expect((await controller.tick(anchor, track)).state).toBe("blocked");
    clock.now = 65_000;
    const result = await controller.unlock(anchor, track);
    expect(result.state).toBe("playing");
    expect(player.log).toEqual(["unlock", "start t1 15000"]);
  });

  it("pauses when the room pauses and stays idle without a track", async () => {
    const { player, controller } = setup(60_000);
    await controller.tick(anchor, track);
    const paused = await controller.tick({ ...anchor, playing: false, positionMs: 10_000 }, track);
    expect(paused).toMatchObject({ state: "paused", expectedMs: 10_000 });
    expect(player.log.at(-1)).toBe("pause");
    expect((await controller.tick(null, null)).state).toBe("idle");
  });

  it("switches tracks when the room moves on", async () => {
    const { player, controller } = setup(60_000);
    await controller.tick(anchor, track);
    const next = { ...anchor, entryId: "e2", trackId: "t2", anchorServerMs: 59_000 };
    await controller.tick(next, { id: "t2", durationMs: 180_000, title: "Two" });
    expect(player.log).toEqual(["start t1 10000", "start t2 1000"]);
  });
});
