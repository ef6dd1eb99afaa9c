/**
 * The local player: synthesises each track in the browser with WebAudio (see synth.ts).
 *
 * Track time maps to the AudioContext's clock through an anchor (track position at a context
 * time) and a rate; changing the rate re-anchors at the current position, so the position is
 * continuous. A look-ahead scheduler queues the notes of the next few hundred ms.
 */
import { AutoplayBlockedError, type PlayableTrack, type Player } from "./player.ts";
import { notesBetween, type Voice, voiceFor } from "./synth.ts";

const LOOKAHEAD_MS = 300;
const TICK_MS = 50;

/** Pure mapping between track time and context time. */
export interface Anchor {
  trackMs: number;
  contextMs: number;
  rate: number;
}

export function trackTimeAt(anchor: Anchor, contextMs: number): number {
  return anchor.trackMs + (contextMs - anchor.contextMs) * anchor.rate;
}

export function contextTimeFor(anchor: Anchor, trackMs: number): number {
  return anchor.contextMs + (trackMs - anchor.trackMs) / anchor.rate;
}

export class LocalPlayer implements Player {
  readonly kind = "local" as const;
  private context: AudioContext | null = null;
  private output: GainNode | null = null;
  private track: PlayableTrack | null = null;
  private voice: Voice | null = null;
  private anchor: Anchor | null = null;
  private scheduledUntilMs = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private sources = new Set<OscillatorNode>();
  private volume = 0.8;
  private readonly createContext: () => AudioContext;

  constructor(createContext: () => AudioContext = () => new AudioContext()) {
    this.createContext = createContext;
  }

  private ensureContext(): AudioContext {
    if (!this.context) {
      this.context = this.createContext();
      this.output = this.context.createGain();
      this.output.gain.value = this.volume;
      this.output.connect(this.context.destination);
    }
    return this.context;
  }

  canPlay(): boolean {
    return this.context?.state === "running";
  }

  async unlock(): Promise<void> {
    const context = this.ensureContext();
    if (context.state !== "running") await context.resume();
  }

  async start(track: PlayableTrack, positionMs: number): Promise<void> {
    // `positionMs` is where the room is now; resuming the context takes a moment, and the
    // track must start where the room is by then.
    const calledAtMs = performance.now();
    const context = this.ensureContext();
    if (context.state !== "running") {
      // Resuming without a gesture succeeds where autoplay is allowed; otherwise it stays
      // suspended and the room shows "click to listen".
      await Promise.race([context.resume(), new Promise((resolve) => setTimeout(resolve, 200))]);
      if ((context.state as AudioContextState) !== "running") throw new AutoplayBlockedError();
    }
    this.silence();
    this.track = track;
    this.voice = voiceFor(track.id);
    const startMs = positionMs + (performance.now() - calledAtMs);
    this.anchor = { trackMs: startMs, contextMs: context.currentTime * 1000, rate: 1 };
    this.scheduledUntilMs = startMs;
    this.schedule();
    this.timer ??= setInterval(() => this.schedule(), TICK_MS);
  }

  pause(): void {
    this.silence();
    this.anchor = null;
    this.track = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  seek(positionMs: number): void {
    if (!this.context || !this.anchor) return;
    this.silence();
    this.anchor = { trackMs: positionMs, contextMs: this.context.currentTime * 1000, rate: 1 };
    this.scheduledUntilMs = positionMs;
    this.schedule();
  }

  setRate(rate: number): void {
    if (!this.context || !this.anchor) return;
    const nowMs = this.context.currentTime * 1000;
    this.anchor = { trackMs: trackTimeAt(this.anchor, nowMs), contextMs: nowMs, rate };
  }

  positionMs(): number | null {
    if (!this.context || !this.anchor || !this.track) return null;
    return Math.min(trackTimeAt(this.anchor, this.context.currentTime * 1000), this.track.durationMs);
  }

  currentTrackId(): string | null {
    return this.track?.id ?? null;
  }

  setVolume(volume: number): void {
    this.volume = Math.min(Math.max(volume, 0), 1);
    if (this.output) this.output.gain.value = this.volume;
  }

  destroy(): void {
    this.pause();
    void this.context?.close();
    this.context = null;
  }

  private silence() {
    for (const source of this.sources) {
      try {
        source.stop();
      } catch {
        // already stopped
      }
    }
    this.sources.clear();
  }

  private schedule() {
    const context = this.context;
    const anchor = this.anchor;
    const voice = this.voice;
    const track = this.track;
    if (!context || !anchor || !voice || !track || !this.output) return;
    const nowTrackMs = trackTimeAt(anchor, context.currentTime * 1000);
    const untilMs = Math.min(nowTrackMs + LOOKAHEAD_MS * anchor.rate, track.durationMs);
    const fromMs = Math.max(this.scheduledUntilMs, nowTrackMs);
    for (const note of notesBetween(voice, fromMs, untilMs)) {
      const startS = contextTimeFor(anchor, note.atMs) / 1000;
      const endS = startS + note.durationMs / anchor.rate / 1000;
      const oscillator = context.createOscillator();
      const envelope = context.createGain();
      oscillator.type = note.wave;
      oscillator.frequency.value = note.frequencyHz;
      envelope.gain.setValueAtTime(0, startS);
      envelope.gain.linearRampToValueAtTime(note.gain, startS + 0.01);
      envelope.gain.exponentialRampToValueAtTime(0.0001, endS);
      oscillator.connect(envelope).connect(this.output);
      oscillator.start(startS);
      oscillator.stop(endS + 0.02);
      this.sources.add(oscillator);
      oscillator.onended = () => this.sources.delete(oscillator);
    }
    this.scheduledUntilMs = Math.max(this.scheduledUntilMs, untilMs);
  }
}
