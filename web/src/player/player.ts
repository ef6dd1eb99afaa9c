/** What the room needs from a player, whichever makes the sound. */

export interface PlayableTrack {
  /** Spotify id (the catalog's key); the local player derives its music from it. */
  id: string;
  durationMs: number;
  title: string;
}

/** Thrown by start() when the browser wants a user gesture before sound. */
export class AutoplayBlockedError extends Error {
  constructor() {
    super("The browser blocks sound until you click");
    this.name = "AutoplayBlockedError";
  }
}

export interface Player {
  readonly kind: "local" | "spotify";
  /** Whether sound may start without a click (false until unlock() after a gesture). */
  canPlay(): boolean;
  /** Call from a click handler: resumes audio the browser held back. */
  unlock(): Promise<void>;
  /** Start `track` at `positionMs` now; throws AutoplayBlockedError when sound is held. */
  start(track: PlayableTrack, positionMs: number): Promise<void>;
  pause(): void;
  seek(positionMs: number): void;
  /** Playback rate, 1 = normal; players without rate control ignore it. */
  setRate(rate: number): void;
  /** The position being heard now, or null when nothing plays. */
  positionMs(): number | null;
  currentTrackId(): string | null;
  setVolume(volume: number): void;
  destroy(): void;
}
