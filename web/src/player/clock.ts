/**
 * The clock the player schedules against: the live channel's NTP-style estimator
 * (`sync/`, docs/realtime.md) behind the small interface the room uses. The channel feeds it
 * ping/pong samples; until one arrives, server time is taken to be local time.
 */
import { ClockSync } from "../sync";
import type { ServerClock } from "./schedule.ts";

export interface ClockEstimator extends ServerClock {
  /** A `ping` frame stamped with this clock. */
  makePing(): { type: "ping"; t0: number };
  /** A `pong` frame, received now. */
  addPong(t0: number, t1: number, t2: number): void;
  offsetMs(): number | null;
}

export function createClockEstimator(sync: ClockSync = new ClockSync()): ClockEstimator {
  return {
    makePing: () => sync.makePing(),
    addPong: (t0, t1, t2) => {
      sync.addPong({ t0, t1, t2 });
    },
    offsetMs: () => sync.estimate()?.offsetMs ?? null,
    serverNowMs: () => sync.serverNow(),
  };
}
