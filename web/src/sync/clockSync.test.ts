import { describe, expect, it } from 'vitest'

import { ClockSync, positionAt, sampleFromPong } from './clockSync'

/** A simulated exchange: server clock = client clock + offset; one-way delays up/down. */
function exchange(sync: ClockSync, clientNow: number, offset: number, up: number, down: number) {
  const t0 = clientNow
  const t1 = t0 + up + offset
  const t2 = t1 + 1
  const t3 = t2 - offset + down
  return sync.addPong({ t0, t1, t2 }, t3)
}

describe('sampleFromPong', () => {
  it('computes the NTP offset and round trip, excluding server time', () => {
    const sample = sampleFromPong({ t0: 1000, t1: 6010, t2: 6015 }, 1030)
    expect(sample).toEqual({ offsetMs: 4997.5, roundTripMs: 25, receivedAt: 1030 })
  })

  it('rejects impossible samples', () => {
    expect(sampleFromPong({ t0: 1000, t1: 10, t2: 5 }, 1010)).toBeNull()
    expect(sampleFromPong({ t0: 1000, t1: 10, t2: 20 }, 990)).toBeNull()
    expect(sampleFromPong({ t0: Number.NaN, t1: 10, t2: 20 }, 990)).toBeNull()
  })
})

describe('ClockSync', () => {
  it('has no estimate before a sample and passes the client clock through', () => {
    const sync = new ClockSync({ now: () => 500 })
    expect(sync.estimate()).toBeNull()
    expect(sync.serverNow()).toBe(500)
  })

  it('trusts the fastest samples over slow asymmetric ones', () => {
    const sync = new ClockSync()
    // Slow, very asymmetric round trips: each alone is off by tens of ms.
    exchange(sync, 0, -3000, 150, 20)
    exchange(sync, 100, -3000, 20, 170)
    exchange(sync, 200, -3000, 180, 30)
    // Fast round trips: off by a couple of ms at most.
    exchange(sync, 300, -3000, 11, 10)
    exchange(sync, 400, -3000, 10, 12)
    exchange(sync, 500, -3000, 12, 12)
    const estimate = sync.estimate()
    expect(estimate).not.toBeNull()
    expect(Math.abs(estimate!.offsetMs - -3000)).toBeLessThanOrEqual(1)
    expect(estimate!.bestRoundTripMs).toBe(21)
    expect(estimate!.uncertaintyMs).toBe(10.5)
    expect(estimate!.samples).toBe(6)
  })

  it('keeps only the recent window, so a changed offset is followed', () => {
    const sync = new ClockSync({ windowSize: 4, bestOf: 1 })
    for (let i = 0; i < 4; i++) exchange(sync, i * 10, 100, 5, 5)
    expect(sync.estimate()!.offsetMs).toBe(100)
    for (let i = 0; i < 4; i++) exchange(sync, 100 + i * 10, 250, 30, 30)
    expect(sync.estimate()!.offsetMs).toBe(250)
    expect(sync.estimate()!.samples).toBe(4)
  })

  it('converts between clocks with the estimate', () => {
    let clock = 10_000
    const sync = new ClockSync({ now: () => clock })
    const ping = sync.makePing()
    expect(ping).toEqual({ type: 'ping', t0: 10_000 })
    clock = 10_040
    sync.addPong({ t0: ping.t0, t1: 15_020, t2: 15_020 })
    expect(sync.estimate()!.offsetMs).toBe(5000)
    expect(sync.serverNow()).toBe(15_040)
    expect(sync.toServerTime(1)).toBe(5001)
    expect(sync.toClientTime(5001)).toBe(1)
    sync.reset()
    expect(sync.estimate()).toBeNull()
  })

  it('ignores unusable pongs', () => {
    const sync = new ClockSync()
    expect(sync.addPong({ t0: 100, t1: 50, t2: 40 }, 120)).toBeNull()
    expect(sync.estimate()).toBeNull()
  })
})

describe('positionAt', () => {
  const track = { duration_ms: 10_000 }
  it('derives the position from the start instant, clamped to the track', () => {
    const playing = { status: 'playing' as const, started_at_ms: 1000, paused_position_ms: null, track }
    expect(positionAt(playing, 3500)).toBe(2500)
    expect(positionAt(playing, 500)).toBe(0)
    expect(positionAt(playing, 99_000)).toBe(10_000)
  })
  it('holds a paused position and is zero when idle', () => {
    expect(
      positionAt({ status: 'paused', started_at_ms: null, paused_position_ms: 4200, track }, 1e9),
    ).toBe(4200)
    expect(
      positionAt({ status: 'idle', started_at_ms: null, paused_position_ms: null, track: null }, 5),
    ).toBe(0)
  })
})
