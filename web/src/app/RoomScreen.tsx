/** The room: composes the live room store with the player, queue, members and chat. */
import { useQuery } from "@tanstack/react-query";
import { useCallback, useState } from "react";

import { api, unwrap } from "../api/client.ts";
import { authConfigQuery, meQuery } from "../api/queries.ts";
import { ChatPanel } from "../chat/ChatPanel.tsx";
import { type GoneReason, useRoom } from "../live/use-room.ts";
import { ListenPanel } from "../player/ListenPanel.tsx";
import { QueuePanel } from "../queue/QueuePanel.tsx";
import { EditRoomForm } from "../rooms/EditRoomForm.tsx";
import { Members } from "../rooms/Members.tsx";
import { isDemo } from "../shared/contract.ts";
import { errorText } from "../shared/errors.ts";
import { navigate } from "../shared/router.ts";
import { PasswordPrompt } from "../rooms/PasswordPrompt.tsx";
import { type Translate, useI18n } from "../shared/i18n.ts";
import { Link } from "../shared/Link.tsx";
import { Button, Card, DemoBadge, ErrorNotice, ErrorText, GenreChip, Spinner } from "../shared/ui.tsx";
import { Icon } from "../shared/icons.tsx";

const CONNECTION_TONE = {
  live: "bg-emerald-500",
  polling: "bg-amber-400",
  connecting: "bg-amber-400 animate-pulse",
  reconnecting: "bg-amber-400 animate-pulse",
  offline: "bg-rose-500",
} as const;

/**
 * The user's Spotify access token for the Web Playback SDK; the API answers 404
 * `spotify_not_linked` when there is no usable link, which the listen panel shows.
 */
async function spotifyPlaybackToken(): Promise<string> {
  const answer = await unwrap(api.GET("/auth/spotify/token"));
  return answer.access_token;
}

function goneText(reason: GoneReason, t: Translate): string {
  if (reason === "room-deleted") return t("room.deleted");
  if (reason === "room-not-found") return t("error.room_not_found");
  if (reason === "refused") return t("room.refused");
  return errorText(reason.error, t);
}

export default function RoomScreen({ roomId }: { roomId: string }) {
  const { t, plural } = useI18n();
  const me = useQuery(meQuery);
  const config = useQuery(authConfigQuery);
  const room = useRoom(roomId, me.data);
  const [editing, setEditing] = useState(false);
  const [controlError, setControlError] = useState<string | null>(null);
  const [leaving, setLeaving] = useState(false);
  const [leaveError, setLeaveError] = useState<unknown>(null);
  const { state, access } = room;

  const myId = me.data?.id ?? null;
  const isOwner = Boolean(state.room && myId && state.room.owner_id === myId);
  const canAdd = isOwner || state.room?.queue_policy === "members";
  const playback = state.playback;
  const queued = state.queue.some((entry) => entry.status === "queued");
  // Play in an idle room starts the first queued track: with none, say why instead.
  const nothingToPlay = !playback?.track && !queued;

  const command = useCallback(
    (frame: Record<string, unknown>) => {
      setControlError(null);
      room.clearCommandError();
      const sent = room.command({ ...frame, ...(playback ? { version: playback.version } : {}) });
      if (!sent) setControlError(t("room.controlsOffline"));
    },
    [room, playback, t],
  );

  if (access.state === "checking") return <Spinner label={t("common.loading")} />;
  if (access.state === "gone") {
    return (
      <Card className="mx-auto mt-8 max-w-md space-y-3">
        <ErrorText>{goneText(access.reason, t)}</ErrorText>
        <Link to="/" className="text-violet-700 underline dark:text-violet-300">
          {t("room.backToDiscover")}
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
        lockedUntilMs={access.lockedUntilMs}
        onSubmit={(password) => void room.joinWithPassword(password)}
      />
    );
  }

  const track = playback?.track ?? null;
  const here = Object.keys(state.online).length;
  const leave = async () => {
    if (isOwner && !window.confirm(t("room.leaveOwner"))) return;
    setLeaving(true);
    setLeaveError(null);
    try {
      await room.leave();
      navigate("/");
    } catch (error) {
      setLeaveError(error);
      setLeaving(false);
    }
  };
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-2">
        <h1 className="min-w-0 break-words text-2xl font-bold tracking-tight [overflow-wrap:anywhere]">{state.room?.name}</h1>
        {state.room && isDemo(state.room) ? <DemoBadge /> : null}
        {state.room?.is_private ? <Icon name="lock" className="size-5 text-zinc-600 dark:text-zinc-400" label={t("room.private")} /> : null}
        <div className="flex flex-wrap gap-1">
          {state.room?.genres.map((genre) => (
            <GenreChip key={genre} slug={genre}>
            {genre}
          </GenreChip>
          ))}
        </div>
        <span className="ml-auto flex items-center gap-2 text-xs text-zinc-600 dark:text-zinc-300" role="status" data-testid="connection-state">
          <span aria-hidden="true" className={`size-2 rounded-full ${CONNECTION_TONE[state.connection]}`} />
          {t(`connection.${state.connection}`)}
        </span>
        <Button tone="secondary" className="px-2 py-1" onClick={() => void leave()} disabled={leaving} data-testid="leave-room">
          {t("room.leave")}
        </Button>
      </div>
      <p className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="room-presence">
        {t("members.online", {
          here: plural("room.hereNow", here),
          members: plural("room.memberCount", state.members.length || state.room?.member_count || 0),
        })}
      </p>
      <ErrorNotice error={leaveError} />
      {state.room?.description ? <p className="break-words text-sm text-zinc-600 [overflow-wrap:anywhere] dark:text-zinc-300">{state.room.description}</p> : null}

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
                  <Button
                    tone="secondary"
                    onClick={() => command({ type: "play" })}
                    disabled={nothingToPlay}
                    aria-describedby={nothingToPlay ? "play-empty-hint" : undefined}
                  >
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
            {isOwner && nothingToPlay ? (
              <p id="play-empty-hint" className="mt-2 text-sm text-zinc-600 dark:text-zinc-400" data-testid="play-empty-hint">
                {t("room.playEmpty")}
              </p>
            ) : null}
            <ErrorText>{controlError}</ErrorText>
            <ErrorNotice error={room.commandError} />
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
