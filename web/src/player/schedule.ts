/**
 * Where playback should be, and how a player gets there, in server time.
 *
 * The room's playback state anchors a position to a server instant; the clock estimator turns
 * local time into server time. A player that is off by a little is nudged with its playback
 * rate (inaudible, no gap); one that is off by a lot seeks. docs/web.md explains the numbers.
 */

/** Estimated server time; the live channel's clock-sync estimator provides it. */
export interface ServerClock {
  /** Milliseconds since the epoch on the server's clock, now. */
  serverNowMs(): number;
}

/** The room's playback, anchored in server time. */
export interface PlaybackAnchor {
  /** The queue entry playing (null: nothing). */
  entryId: string | null;
  trackId: string | null;
  durationMs: number;
  playing: boolean;
  /** Position at `anchorServerMs`. */
  positionMs: number;
  anchorServerMs: number;
}

export function expectedPositionMs(anchor: PlaybackAnchor, serverNowMs: number): number {
  const elapsed = anchor.playing ? serverNowMs - anchor.anchorServerMs : 0;
  const position = anchor.positionMs + elapsed;
  return Math.min(Math.max(position, 0), Math.max(anchor.durationMs, 0));
}

export interface SyncTuning {
  /** Below this |drift| nothing is done (measurement noise). */
  deadbandMs: number;
  /** Above this |drift| the player seeks instead of nudging its rate. */
  seekThresholdMs: number;
  /** How long a rate nudge should take to close the drift. */
  catchUpMs: number;
  /** The rate never strays further than this from 1 (±5% is not heard on music). */
  maxRateDelta: number;
}

export const LOCAL_TUNING: SyncTuning = {
  deadbandMs: 8,
  seekThresholdMs: 400,
  catchUpMs: 2_000,
  maxRateDelta: 0.05,
};

/** Spotify's players have no rate control: only seeks, with a wider threshold. */
export const SPOTIFY_TUNING: SyncTuning = {
  deadbandMs: 250,
  seekThresholdMs: 250,
  catchUpMs: 1,
  maxRateDelta: 0,
};

export type Correction =
  | { kind: "none"; rate: 1 }
  | { kind: "rate"; rate: number }
  | { kind: "seek"; positionMs: number; rate: 1 };

/**
 * What to do about `driftMs` = player position − expected position (positive: ahead).
 * A rate that closes the drift in `catchUpMs`: ahead → slower, behind → faster.
 */
export function correctionFor(
  driftMs: number,
  expectedMs: number,
  tuning: SyncTuning,
): Correction {
  const size = Math.abs(driftMs);
  if (size > tuning.seekThresholdMs) {
    return { kind: "seek", positionMs: expectedMs, rate: 1 };
  }
  if (size <= tuning.deadbandMs || tuning.maxRateDelta === 0) {
    return { kind: "none", rate: 1 };
  }
  const delta = Math.min(size / tuning.catchUpMs, tuning.maxRateDelta);
  return { kind: "rate", rate: driftMs > 0 ? 1 - delta : 1 + delta };
}
