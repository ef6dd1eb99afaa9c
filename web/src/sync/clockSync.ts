/**
 * Clock sync with the server, NTP style (see docs/realtime.md, "Clock sync").
 *
 * Send `makePing()` on the room socket, feed every `pong` frame to `addPong()`, and read the
 * server's clock with `serverNow()`. Samples with the lowest round trips are the ones whose
 * one-way delays were both small, so their offsets are the most trustworthy: the estimate is
 * the median offset of the `bestOf` fastest of the last `windowSize` samples, and its
 * uncertainty is half the fastest round trip (the offset error of a sample can never exceed
 * half its round trip, however asymmetric the path).
 *
 * The Python twin is api/realtime/clock_sync.py; keep the two in step.
 */

export interface PingFrame {
  type: 'ping'
  t0: number
}

export interface PongFrame {
  type?: 'pong'
  /** Client send time, echoed. */
  t0: number
  /** Server receive time (server epoch ms). */
  t1: number
  /** Server send time (server epoch ms). */
  t2: number
}

export interface ClockSample {
  /** Server clock minus client clock, ms. */
  offsetMs: number
  /** Network round trip, server processing excluded, ms. */
  roundTripMs: number
  /** Client time the pong arrived. */
  receivedAt: number
}

export interface ClockEstimate {
  /** Add to a client time to get server time. */
  offsetMs: number
  /** Bound on the offset's error, ms (half the best round trip). */
  uncertaintyMs: number
  /** The lowest round trip in the window, ms. */
  bestRoundTripMs: number
  /** Samples in the window. */
  samples: number
}

export interface ClockSyncOptions {
  /** Recent samples kept (older ones age out, so clock drift is followed). */
  windowSize?: number
  /** How many of the fastest samples the estimate takes the median of. */
  bestOf?: number
  /** The client clock, in ms; defaults to a monotonic wall clock. */
  now?: () => number
}

export function sampleFromPong(pong: PongFrame, t3: number): ClockSample | null {
  const { t0, t1, t2 } = pong
  if (![t0, t1, t2, t3].every(Number.isFinite)) return null
  const roundTripMs = t3 - t0 - (t2 - t1)
  if (roundTripMs < 0 || t2 < t1) return null
  const offsetMs = (t1 - t0 + (t2 - t3)) / 2
  return { offsetMs, roundTripMs, receivedAt: t3 }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  const upper = sorted[middle] ?? 0
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? upper) + upper) / 2
}

function defaultNow(): number {
  if (typeof performance !== 'undefined' && typeof performance.now === 'function') {
    return performance.timeOrigin + performance.now()
  }
  return Date.now()
}

export class ClockSync {
  private readonly windowSize: number
  private readonly bestOf: number
  private readonly now: () => number
  private samples: ClockSample[] = []

  constructor(options: ClockSyncOptions = {}) {
    this.windowSize = Math.max(1, options.windowSize ?? 32)
    this.bestOf = Math.max(1, options.bestOf ?? 3)
    this.now = options.now ?? defaultNow
  }

  /** A ping frame stamped with the client clock. */
  makePing(): PingFrame {
    return { type: 'ping', t0: this.now() }
  }

  /** Record a pong (received now, or at `t3`); returns the sample, or null if unusable. */
  addPong(pong: PongFrame, t3: number = this.now()): ClockSample | null {
    const sample = sampleFromPong(pong, t3)
    if (sample === null) return null
    this.samples.push(sample)
    if (this.samples.length > this.windowSize) {
      this.samples.splice(0, this.samples.length - this.windowSize)
    }
    return sample
  }

  /** The current estimate, or null before the first usable sample. */
  estimate(): ClockEstimate | null {
    const fastest = [...this.samples]
      .sort((a, b) => a.roundTripMs - b.roundTripMs)
      .slice(0, this.bestOf)
    const best = fastest[0]
    if (best === undefined) return null
    const bestRoundTripMs = best.roundTripMs
    return {
      offsetMs: median(fastest.map((sample) => sample.offsetMs)),
      uncertaintyMs: bestRoundTripMs / 2,
      bestRoundTripMs,
      samples: this.samples.length,
    }
  }

  /** The server's clock now (the client clock until a sample arrived). */
  serverNow(): number {
    return this.toServerTime(this.now())
  }

  toServerTime(clientMs: number): number {
    return clientMs + (this.estimate()?.offsetMs ?? 0)
  }

  toClientTime(serverMs: number): number {
    return serverMs - (this.estimate()?.offsetMs ?? 0)
  }

  reset(): void {
    this.samples = []
  }
}

export interface PlaybackTiming {
  status: 'playing' | 'paused' | 'idle'
  started_at_ms: number | null
  paused_position_ms: number | null
  track: { duration_ms: number } | null
}

/** Where playback is at server time `serverMs` (the server's own rule, docs/realtime.md). */
export function positionAt(state: PlaybackTiming, serverMs: number): number {
  if (state.status === 'idle' || state.track === null) return 0
  if (state.status === 'paused') return state.paused_position_ms ?? 0
  const position = serverMs - (state.started_at_ms ?? serverMs)
  return Math.max(0, Math.min(state.track.duration_ms, position))
}
