/**
 * The Spotify player: the Web Playback SDK makes this browser a Spotify Connect device, and the
 * Connect API tells it what to play from which `position_ms`. Needs a Premium account linked to
 * TuneWave; everything outside (SDK, Web API, token) is injected, so the scheduling is tested
 * without Spotify.
 *
 * Spotify has no playback-rate control, so drift is corrected by seeking only (SPOTIFY_TUNING);
 * a start asks for the expected position plus the latency the last commands took.
 */
import { AutoplayBlockedError, type PlayableTrack, type Player } from "./player.ts";

/** The part of the Web Playback SDK's `Spotify.Player` we use. */
export interface SdkPlayer {
  connect(): Promise<boolean>;
  disconnect(): void;
  activateElement(): Promise<void>;
  setVolume(volume: number): Promise<void>;
  addListener(event: "ready", callback: (payload: { device_id: string }) => void): void;
  addListener(event: "player_state_changed", callback: (state: SdkState | null) => void): void;
  addListener(event: "autoplay_failed", callback: () => void): void;
}

export interface SdkState {
  paused: boolean;
  position: number;
  /** When the SDK took this state, ms since the epoch (local clock). */
  timestamp: number;
  track_window: { current_track: { id: string | null } | null };
}

export interface SpotifyPlayerDeps {
  createSdkPlayer(getOAuthToken: (callback: (token: string) => void) => void): Promise<SdkPlayer>;
  getAccessToken(): Promise<string>;
  fetch: typeof fetch;
  nowMs(): number;
  apiUrl?: string;
}

/** Where to ask Spotify to start so that, after the command's latency, it is on time. */
export function startPositionMs(expectedMs: number, latencyMs: number, durationMs: number) {
  return Math.round(Math.min(Math.max(expectedMs + latencyMs, 0), Math.max(durationMs - 1, 0)));
}

/** Exponential moving average of command latency; the first sample replaces the guess. */
export function nextLatencyEstimate(previousMs: number | null, sampleMs: number): number {
  return previousMs === null ? sampleMs : previousMs * 0.7 + sampleMs * 0.3;
}

export class SpotifyPlayer implements Player {
  readonly kind = "spotify" as const;
  private readonly deps: SpotifyPlayerDeps;
  private sdk: SdkPlayer | null = null;
  private deviceId: string | null = null;
  private ready: Promise<string> | null = null;
  private state: SdkState | null = null;
  private activated = false;
  private autoplayFailed = false;
  private latencyMs: number | null = null;
  private retryAfterUntilMs = 0;
  private wantedTrackId: string | null = null;

  constructor(deps: SpotifyPlayerDeps) {
    this.deps = deps;
  }

  private apiUrl() {
    return this.deps.apiUrl ?? "https://api.spotify.com/v1";
  }

  private connect(): Promise<string> {
    this.ready ??= (async () => {
      const sdk = await this.deps.createSdkPlayer((callback) => {
        void this.deps.getAccessToken().then(callback);
      });
      this.sdk = sdk;
      const device = new Promise<string>((resolve) => {
        sdk.addListener("ready", ({ device_id }) => resolve(device_id));
      });
      sdk.addListener("player_state_changed", (state) => {
        this.state = state;
      });
      sdk.addListener("autoplay_failed", () => {
        this.autoplayFailed = true;
      });
      if (!(await sdk.connect())) throw new Error("Spotify refused to connect the player");
      this.deviceId = await device;
      return this.deviceId;
    })();
    return this.ready;
  }

  canPlay(): boolean {
    return this.activated && !this.autoplayFailed;
  }

  async unlock(): Promise<void> {
    await this.connect();
    await this.sdk?.activateElement();
    this.activated = true;
    this.autoplayFailed = false;
  }

  private async command(method: "PUT", path: string, body?: unknown): Promise<number> {
    const now = this.deps.nowMs();
    if (now < this.retryAfterUntilMs) return 0;
    const token = await this.deps.getAccessToken();
    const sentAt = this.deps.nowMs();
    const response = await this.deps.fetch(`${this.apiUrl()}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 429) {
      const retryS = Number(response.headers.get("Retry-After") ?? "1");
      this.retryAfterUntilMs = this.deps.nowMs() + (Number.isFinite(retryS) ? retryS : 1) * 1000;
      return 0;
    }
    if (!response.ok && response.status !== 204) {
      throw new Error(`Spotify ${path}: ${response.status}`);
    }
    const tookMs = this.deps.nowMs() - sentAt;
    this.latencyMs = nextLatencyEstimate(this.latencyMs, tookMs);
    return tookMs;
  }

  latencyEstimateMs(): number {
    return this.latencyMs ?? 0;
  }

  async start(track: PlayableTrack, positionMs: number): Promise<void> {
    const deviceId = await this.connect();
    if (!this.canPlay()) throw new AutoplayBlockedError();
    this.wantedTrackId = track.id;
    const position = startPositionMs(positionMs, this.latencyEstimateMs(), track.durationMs);
    await this.command("PUT", `/me/player/play?device_id=${encodeURIComponent(deviceId)}`, {
      uris: [`spotify:track:${track.id}`],
      position_ms: position,
    });
  }

  pause(): void {
    this.wantedTrackId = null;
    if (this.deviceId) {
      void this.command("PUT", `/me/player/pause?device_id=${encodeURIComponent(this.deviceId)}`);
    }
  }

  seek(positionMs: number): void {
    if (!this.deviceId) return;
    const target = Math.max(0, Math.round(positionMs + this.latencyEstimateMs()));
    void this.command(
      "PUT",
      `/me/player/seek?position_ms=${target}&device_id=${encodeURIComponent(this.deviceId)}`,
    );
  }

  setRate(): void {
    // The Connect API has no rate control; SPOTIFY_TUNING never asks for one.
  }

  positionMs(): number | null {
    const state = this.state;
    if (!state || !this.wantedTrackId) return null;
    if (state.track_window.current_track?.id !== this.wantedTrackId) return null;
    if (state.paused) return state.position;
    return state.position + (this.deps.nowMs() - state.timestamp);
  }

  currentTrackId(): string | null {
    return this.positionMs() === null ? null : this.wantedTrackId;
  }

  setVolume(volume: number): void {
    void this.sdk?.setVolume(volume);
  }

  destroy(): void {
    this.sdk?.disconnect();
    this.sdk = null;
    this.ready = null;
  }
}

/** Loads the Web Playback SDK script once and builds its player. */
export function loadSpotifySdk(name: string) {
  return (getOAuthToken: (callback: (token: string) => void) => void): Promise<SdkPlayer> =>
    new Promise((resolve, reject) => {
      const global = window as unknown as {
        Spotify?: { Player: new (options: object) => SdkPlayer };
        onSpotifyWebPlaybackSDKReady?: () => void;
      };
      const build = () => {
        if (!global.Spotify) return reject(new Error("The Spotify SDK did not load"));
        resolve(new global.Spotify.Player({ name, getOAuthToken, volume: 0.8 }));
      };
      if (global.Spotify) return build();
      global.onSpotifyWebPlaybackSDKReady = build;
      const script = document.createElement("script");
      script.src = "https://sdk.scdn.co/spotify-player.js";
      script.async = true;
      script.onerror = () => reject(new Error("The Spotify SDK could not be reached"));
      document.head.appendChild(script);
    });
}
