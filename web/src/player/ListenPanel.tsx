/**
 * Now playing, the progress bar in server time, the listen button and the player choice.
 * The chosen Player is kept on the room's playback by a SyncController ticking 4 times a
 * second; a browser that holds sound back shows "click to listen".
 */
import { useEffect, useMemo, useRef, useState } from "react";

import { useI18n } from "../shared/i18n.ts";
import { formatDuration } from "../shared/format.ts";
import { errorText } from "../shared/errors.ts";
import { ApiError } from "../shared/fetchJson.ts";
import { Button, ErrorText } from "../shared/ui.tsx";
import { LocalPlayer } from "./local-player.ts";
import type { PlayableTrack, Player } from "./player.ts";
import {
  expectedPositionMs,
  LOCAL_TUNING,
  type PlaybackAnchor,
  type ServerClock,
  SPOTIFY_TUNING,
} from "./schedule.ts";
import { loadSpotifySdk, SpotifyPlayer } from "./spotify-player.ts";
import { type ListenState, SyncController } from "./sync-controller.ts";
import { Icon } from "../shared/icons.tsx";

const TICK_MS = 250;
const PLAYER_KEY = "tunewave.player";

export interface NowPlayingTrack {
  spotifyId: string;
  title: string;
  artists: string;
  durationMs: number;
  imageUrl: string | null;
}

export type PlayerKind = "local" | "spotify";

interface ListenPanelProps {
  anchor: PlaybackAnchor | null;
  track: NowPlayingTrack | null;
  clock: ServerClock;
  spotifyAvailable: boolean;
  getSpotifyToken: () => Promise<string>;
  canControl: boolean;
  onSeek: (positionMs: number) => void;
}

/** What the end-to-end tests (and a curious developer) can read from the page. */
export interface PlayerProbe {
  kind: PlayerKind;
  state: ListenState;
  heardMs: number | null;
  expectedMs: number | null;
  serverNowMs: number;
  /** The local wall clock when this probe was taken. */
  atMs: number;
}

declare global {
  interface Window {
    tunewavePlayer?: () => PlayerProbe;
  }
}

function makePlayer(kind: PlayerKind, getSpotifyToken: () => Promise<string>): Player {
  if (kind === "spotify") {
    return new SpotifyPlayer({
      createSdkPlayer: loadSpotifySdk("TuneWave"),
      getAccessToken: getSpotifyToken,
      fetch: (...args) => fetch(...args),
      nowMs: () => Date.now(),
    });
  }
  return new LocalPlayer();
}

export function ListenPanel({
  anchor,
  track,
  clock,
  spotifyAvailable,
  getSpotifyToken,
  canControl,
  onSeek,
}: ListenPanelProps) {
  const { t } = useI18n();
  const [kind, setKind] = useState<PlayerKind>(() =>
    spotifyAvailable && localStorage.getItem(PLAYER_KEY) === "spotify" ? "spotify" : "local",
  );
  const [listen, setListenState] = useState<ListenState>("idle");
  const listenRef = useRef<ListenState>("idle");
  const setListen = (next: ListenState) => {
    listenRef.current = next;
    setListenState(next);
  };
  const [error, setError] = useState<unknown>(null);
  const [positionMs, setPositionMs] = useState(0);
  const [volume, setVolume] = useState(0.8);
  const player = useMemo(() => makePlayer(kind, getSpotifyToken), [kind, getSpotifyToken]);
  const controller = useMemo(
    () => new SyncController(player, clock, kind === "spotify" ? SPOTIFY_TUNING : LOCAL_TUNING),
    [player, clock, kind],
  );
  const latest = useRef({ anchor, track });
  useEffect(() => {
    latest.current = { anchor, track };
  }, [anchor, track]);
  const playable = (value: NowPlayingTrack | null): PlayableTrack | null =>
    value ? { id: value.spotifyId, durationMs: value.durationMs, title: value.title } : null;

  useEffect(() => {
    let busy = false;
    const tick = async () => {
      if (busy) return;
      busy = true;
      try {
        const { anchor: a, track: tr } = latest.current;
        const result = await controller.tick(a, playable(tr));
        setListen(result.state);
        setPositionMs(a ? expectedPositionMs(a, clock.serverNowMs()) : 0);
      } catch (caught) {
        setError(caught);
      } finally {
        busy = false;
      }
    };
    void tick();
    const timer = setInterval(tick, TICK_MS);
    window.tunewavePlayer = () => {
      const a = latest.current.anchor;
      return {
        kind,
        state: listenRef.current,
        heardMs: player.positionMs(),
        expectedMs: a ? expectedPositionMs(a, clock.serverNowMs()) : null,
        serverNowMs: clock.serverNowMs(),
        atMs: Date.now(),
      };
    };
    return () => {
      clearInterval(timer);
      controller.destroy();
    };
  }, [controller, clock, player, kind]);

  useEffect(() => player.setVolume(volume), [player, volume]);

  const unlock = async () => {
    setError(null);
    try {
      const result = await controller.unlock(latest.current.anchor, playable(latest.current.track));
      setListen(result.state);
    } catch (caught) {
      setError(caught);
    }
  };

  const duration = track?.durationMs ?? 0;
  return (
    <section aria-label={t("room.nowPlaying")} className="space-y-3">
      <div className="flex items-center gap-3">
        {track?.imageUrl ? (
          <img src={track.imageUrl} alt="" className="size-16 rounded-lg object-cover shadow" />
        ) : (
          <div
            aria-hidden="true"
            className="grid size-16 place-items-center rounded-lg bg-gradient-to-br from-violet-500 to-fuchsia-500 text-2xl text-white shadow"
          >
            <Icon name="note" className="size-8" />
          </div>
        )}
        <div className="min-w-0 flex-1">
          <p className="text-xs uppercase tracking-wide text-zinc-600 dark:text-zinc-400">
            {t("room.nowPlaying")}
          </p>
          <p className="truncate text-lg font-semibold" data-testid="now-playing-title" title={track?.title}>
            {track ? track.title : t("room.nothingPlaying")}
          </p>
          {track ? <p className="truncate text-sm text-zinc-600 dark:text-zinc-300" title={track.artists}>{track.artists}</p> : null}
        </div>
      </div>
      {track ? (
        <div className="space-y-1">
          {canControl ? (
            <input
              type="range"
              min={0}
              max={duration}
              step={1000}
              value={Math.min(positionMs, duration)}
              aria-label={t("room.seek")}
              aria-valuetext={`${formatDuration(positionMs)} / ${formatDuration(duration)}`}
              onChange={(event) => onSeek(Number(event.target.value))}
              className="w-full accent-violet-600"
            />
          ) : (
            <div
              role="progressbar"
              aria-label={t("room.progress")}
              aria-valuemin={0}
              aria-valuemax={Math.round(duration / 1000)}
              aria-valuenow={Math.round(positionMs / 1000)}
              aria-valuetext={`${formatDuration(positionMs)} / ${formatDuration(duration)}`}
              className="h-2 w-full overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
            >
              <div
                className="h-full bg-violet-600"
                style={{ width: `${duration ? (100 * Math.min(positionMs, duration)) / duration : 0}%` }}
              />
            </div>
          )}
          <div className="flex justify-between text-xs tabular-nums text-zinc-600 dark:text-zinc-400">
            <span>{formatDuration(positionMs)}</span>
            <span>{formatDuration(duration)}</span>
          </div>
        </div>
      ) : null}
      <div className="flex flex-wrap items-center gap-3">
        {listen === "blocked" ? (
          <Button onClick={unlock} data-testid="listen-button">
            <Icon name="play" /> {t("player.clickToListen")}
          </Button>
        ) : null}
        <span className="text-sm text-zinc-600 dark:text-zinc-300" role="status" data-testid="listen-state">
          {t(`player.state.${listen}`)}
        </span>
        <label className="ml-auto flex items-center gap-2 text-sm">
          <span>{t("player.volume")}</span>
          <input
            type="range"
            min={0}
            max={1}
            step={0.05}
            value={volume}
            onChange={(event) => setVolume(Number(event.target.value))}
            className="w-24 accent-violet-600"
          />
        </label>
        <label className="flex items-center gap-2 text-sm">
          <span>{t("player.kind")}</span>
          <select
            value={kind}
            onChange={(event) => {
              const next = event.target.value as PlayerKind;
              localStorage.setItem(PLAYER_KEY, next);
              setKind(next);
            }}
            className="rounded-md border border-zinc-300 bg-white px-1.5 py-1 text-xs dark:border-zinc-700 dark:bg-zinc-900"
          >
            <option value="local">{t("player.local")}</option>
            <option value="spotify" disabled={!spotifyAvailable}>
              {t("player.spotify")}
            </option>
          </select>
        </label>
      </div>
      {error ? (
        <ErrorText>{error instanceof ApiError ? errorText(error, t) : t("player.error")}</ErrorText>
      ) : null}
    </section>
  );
}
