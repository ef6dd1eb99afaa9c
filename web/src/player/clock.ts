/**
 * The clock the player schedules against. The live channel feeds it ping/pong samples; it
 * keeps the recent samples with the lowest round trips (their offsets are the least skewed
 * by queueing) and uses their median offset. Until a sample arrives, server time is taken to
 * be local time.
 *
 * The live-room branch ships the project's estimator in web/src/sync/; this adapter has the
 * same inputs and output, so the room switches to it by changing one import.
 */
import { pingSample, type ServerClock } from "./schedule.ts";

export interface ClockEstimator extends ServerClock {
  addSample(t0: number, t1: number, t2: number, t3: number): void;
  offsetMs(): number | null;
}

export function createClockEstimator(
  now: () => number = () => Date.now(),
  window = 16,
  best = 4,
): ClockEstimator {
  const samples: { offsetMs: number; roundTripMs: number }[] = [];
  let offset: number | null = null;
  return {
    addSample(t0, t1, t2, t3) {
      const sample = pingSample(t0, t1, t2, t3);
      if (!(sample.roundTripMs >= 0)) return;
      samples.push(sample);
      if (samples.length > window) samples.shift();
      const lowest = [...samples].sort((a, b) => a.roundTripMs - b.roundTripMs).slice(0, best);
      const offsets = lowest.map((item) => item.offsetMs).sort((a, b) => a - b);
      const middle = offsets.length >> 1;
      offset =
        offsets.length % 2
          ? offsets[middle]!
          : ((offsets[middle - 1] ?? 0) + (offsets[middle] ?? 0)) / 2;
    },
    offsetMs: () => offset,
    serverNowMs: () => now() + (offset ?? 0),
  };
}
