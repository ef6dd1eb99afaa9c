/**
 * Keeps one Player on the room's playback: starts, stops, changes tracks, and corrects drift
 * on every tick (the room page ticks it a few times a second).
 */
import { AutoplayBlockedError, type PlayableTrack, type Player } from "./player.ts";
import {
  type Correction,
  correctionFor,
  expectedPositionMs,
  type PlaybackAnchor,
  type ServerClock,
  type SyncTuning,
} from "./schedule.ts";

export type ListenState = "idle" | "blocked" | "playing" | "paused";

export interface TickResult {
  state: ListenState;
  expectedMs: number | null;
  driftMs: number | null;
  correction: Correction | null;
}

export class SyncController {
  private readonly player: Player;
  private readonly clock: ServerClock;
  private readonly tuning: SyncTuning;
  private blocked = false;
  private starting = false;
  private lastRate = 1;

  constructor(player: Player, clock: ServerClock, tuning: SyncTuning) {
    this.player = player;
    this.clock = clock;
    this.tuning = tuning;
  }

  /** Bring the player to where `anchor` says the room is. */
  async tick(anchor: PlaybackAnchor | null, track: PlayableTrack | null): Promise<TickResult> {
    if (!anchor || !anchor.trackId || !track || track.id !== anchor.trackId) {
      this.stop();
      return { state: "idle", expectedMs: null, driftMs: null, correction: null };
    }
    const expectedMs = expectedPositionMs(anchor, this.clock.serverNowMs());
    if (!anchor.playing || expectedMs >= anchor.durationMs) {
      this.stop();
      return { state: "paused", expectedMs, driftMs: null, correction: null };
    }
    if (this.blocked && !this.player.canPlay()) {
      return { state: "blocked", expectedMs, driftMs: null, correction: null };
    }
    const heard = this.player.positionMs();
    if (heard === null || this.player.currentTrackId() !== track.id) {
      if (this.starting) return { state: "playing", expectedMs, driftMs: null, correction: null };
      this.starting = true;
      try {
        await this.player.start(track, expectedPositionMs(anchor, this.clock.serverNowMs()));
        this.blocked = false;
        this.setRate(1);
      } catch (error) {
        if (error instanceof AutoplayBlockedError) {
          this.blocked = true;
          return { state: "blocked", expectedMs, driftMs: null, correction: null };
        }
        throw error;
      } finally {
        this.starting = false;
      }
      return { state: "playing", expectedMs, driftMs: 0, correction: null };
    }
    const nowExpected = expectedPositionMs(anchor, this.clock.serverNowMs());
    const driftMs = heard - nowExpected;
    const correction = correctionFor(driftMs, nowExpected, this.tuning);
    if (correction.kind === "seek") {
      this.player.seek(correction.positionMs);
      this.setRate(1);
    } else {
      this.setRate(correction.rate);
    }
    return { state: "playing", expectedMs: nowExpected, driftMs, correction };
  }

  /** After a click: let sound out and start at once. */
  async unlock(anchor: PlaybackAnchor | null, track: PlayableTrack | null): Promise<TickResult> {
    await this.player.unlock();
    this.blocked = false;
    return this.tick(anchor, track);
  }

  private setRate(rate: number) {
    if (rate !== this.lastRate) {
      this.player.setRate(rate);
      this.lastRate = rate;
    }
  }

  private stop() {
    if (this.player.positionMs() !== null) this.player.pause();
    this.setRate(1);
  }

  destroy() {
    this.player.destroy();
  }
}
