/** The room: composes the live room store with the player, queue, members and chat. */
import { useQuery } from "@tanstack/react-query";
import { useCallback, useState } from "react";

import { api, requestOptional, unwrap } from "../api/client.ts";
import { ChatPanel } from "../chat/ChatPanel.tsx";
import { isRecord } from "../shared/fetchJson.ts";
import { useRoom } from "../live/use-room.ts";
import { ListenPanel } from "../player/ListenPanel.tsx";
import { QueuePanel } from "../queue/QueuePanel.tsx";
import { EditRoomForm } from "../rooms/EditRoomForm.tsx";
import { Members } from "../rooms/Members.tsx";
import { PasswordPrompt } from "../rooms/PasswordPrompt.tsx";
import { useI18n } from "../shared/i18n.ts";
import { Link } from "../shared/Link.tsx";
import { Button, Card, ErrorText, GenreChip, Spinner } from "../shared/ui.tsx";
import { Icon } from "../shared/icons.tsx";

const CONNECTION_TONE = {
  live: "bg-emerald-500",
  polling: "bg-amber-400",
  connecting: "bg-amber-400 animate-pulse",
  reconnecting: "bg-amber-400 animate-pulse",
  offline: "bg-rose-500",
} as const;

/** A Spotify access token for the Web Playback SDK, from the API when it hands one out. */
async function spotifyPlaybackToken(): Promise<string> {
  const body = await requestOptional("/auth/spotify/token");
  if (isRecord(body) && typeof body.access_token === "string") return body.access_token;
  throw new Error("Spotify playback is not available on this server yet");
}

export default function RoomScreen({ roomId }: { roomId: string }) {
  const { t } = useI18n();
  const me = useQuery({ queryKey: ["me"], queryFn: () => unwrap(api.GET("/users/me")) });
  const config = useQuery({ queryKey: ["auth-config"], queryFn: () => unwrap(api.GET("/auth/config")) });
  const room = useRoom(roomId, me.data);
  const [editing, setEditing] = useState(false);
  const [controlError, setControlError] = useState<string | null>(null);
  const { state, access } = room;

  const myId = me.data?.id ?? null;
  const isOwner = Boolean(state.room && myId && state.room.owner_id === myId);
  const canAdd = isOwner || state.room?.queue_policy === "members";
  const playback = state.playback;

  const command = useCallback(
    (frame: Record<string, unknown>) => {
      setControlError(null);
      const sent = room.command({ ...frame, ...(playback ? { version: playback.version } : {}) });
      if (!sent) setControlError(t("room.controlsOffline"));
    },
    [room, playback, t],
  );

  if (access.state === "checking") return <Spinner label={t("common.loading")} />;
  if (access.state === "gone") {
    return (
      <Card className="mx-auto mt-8 max-w-md space-y-3">
        <ErrorText>{access.reason === "room-deleted" ? t("room.deleted") : access.reason}</ErrorText>
        <Link to="/" className="text-violet-700 underline dark:text-violet-400">
          {t("nav.discover")}
        </Link>
      </Card>
    );
  }
  if (access.state === "password") {
    return (
      <PasswordPrompt
        roomName={state.room?.name ?? ""}
        error={access.error}
        busy={access.busy}
        onSubmit={(password) => void room.joinWithPassword(password)}
      />
    );
  }

  const track = playback?.track ?? null;
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-2">
        <h1 className="text-2xl font-bold tracking-tight">{state.room?.name}</h1>
        {state.room?.is_private ? <Icon name="lock" className="size-5 text-zinc-500" label={t("room.private")} /> : null}
        <div className="flex flex-wrap gap-1">
          {state.room?.genres.map((genre) => (
            <GenreChip key={genre}>{genre}</GenreChip>
          ))}
        </div>
        <span className="ml-auto flex items-center gap-2 text-xs text-zinc-600 dark:text-zinc-300" role="status" data-testid="connection-state">
          <span aria-hidden="true" className={`size-2 rounded-full ${CONNECTION_TONE[state.connection]}`} />
          {t(`connection.${state.connection}`)}
        </span>
      </div>
      {state.room?.description ? <p className="text-sm text-zinc-600 dark:text-zinc-300">{state.room.description}</p> : null}

      <div className="grid gap-4 lg:grid-cols-[minmax(0,1fr)_22rem]">
        <div className="min-w-0 space-y-4">
          <Card>
            <ListenPanel
              anchor={playback}
              track={track}
              clock={room.clock}
              spotifyAvailable={Boolean(config.data?.spotify.enabled)}
              getSpotifyToken={spotifyPlaybackToken}
              canControl={isOwner}
              onSeek={(positionMs) => command({ type: "seek", position_ms: positionMs })}
            />
            {isOwner ? (
              <div className="mt-3 flex flex-wrap gap-2 border-t border-zinc-200 pt-3 dark:border-zinc-800" role="group" aria-label={t("room.controls")}>
                {playback?.status === "playing" ? (
                  <Button tone="secondary" onClick={() => command({ type: "pause" })}>
                    <Icon name="pause" /> {t("room.pause")}
                  </Button>
                ) : (
                  <Button tone="secondary" onClick={() => command({ type: "play" })}>
                    <Icon name="play" /> {t("room.play")}
                  </Button>
                )}
                <Button tone="secondary" onClick={() => command({ type: "skip" })} disabled={!track}>
                  <Icon name="skip" /> {t("room.skip")}
                </Button>
                <Button tone="ghost" className="ml-auto" onClick={() => setEditing((value) => !value)} aria-expanded={editing}>
                  ✎ {t("room.edit")}
                </Button>
              </div>
            ) : null}
            <ErrorText>{controlError}</ErrorText>
            {editing && state.room ? (
              <div className="mt-3 border-t border-zinc-200 pt-3 dark:border-zinc-800">
                <EditRoomForm room={state.room} onSaved={() => void room.refreshRoom()} onClose={() => setEditing(false)} />
              </div>
            ) : null}
          </Card>
          <Card>
            <QueuePanel
              roomId={roomId}
              queue={state.queue}
              myUserId={myId}
              canAdd={canAdd}
              canManage={isOwner}
              onChanged={() => {
                void room.refreshQueue();
                void room.refreshPlayback();
              }}
            />
          </Card>
        </div>
        <div className="min-w-0 space-y-4">
          <Card className="flex flex-col">
            <ChatPanel
              messages={state.messages}
              pending={state.pending}
              hasOlder={state.hasOlder}
              myUserId={myId}
              myName={me.data?.display_name ?? ""}
              onLoadOlder={room.loadOlder}
              onSend={room.send}
            />
          </Card>
          <Card>
            <Members members={state.members} online={state.online} ownerId={state.room?.owner_id ?? null} />
          </Card>
        </div>
      </div>
    </div>
  );
}
