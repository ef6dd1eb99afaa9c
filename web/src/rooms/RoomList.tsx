import { useQuery } from "@tanstack/react-query";
import { useDeferredValue, useState } from "react";

import type { Room } from "../api/client.ts";
import { errorMessage } from "../api/client.ts";
import { useI18n } from "../shared/i18n.ts";
import { Link } from "../shared/Link.tsx";
import { Card, ErrorText, GenreChip, Spinner, TextInput } from "../shared/ui.tsx";
import { listGenres, listRooms, loadNowPlaying } from "./rooms-api.ts";
import { Icon } from "../shared/icons.tsx";

function NowPlayingLine({ roomId }: { roomId: string }) {
  const { t } = useI18n();
  const now = useQuery({
    queryKey: ["now-playing", roomId],
    queryFn: () => loadNowPlaying(roomId),
    staleTime: 15_000,
    retry: false,
  });
  if (!now.data) return null;
  return (
    <p className="truncate text-sm text-zinc-600 dark:text-zinc-300">
      <Icon name="note" className="mr-1 size-3.5 align-[-2px]" />
      <span className="sr-only">{t("room.nowPlaying")}: </span>
      {now.data.title} — {now.data.artists}
    </p>
  );
}

function RoomCard({ room }: { room: Room }) {
  const { t } = useI18n();
  return (
    <li className="flex flex-col gap-2 rounded-xl border border-zinc-200 bg-white p-4 shadow-sm transition hover:border-violet-400 dark:border-zinc-800 dark:bg-zinc-900">
      <div className="flex items-start justify-between gap-2">
        <Link to={`/room/${room.id}`} className="text-base font-semibold hover:underline">
          {room.name}
        </Link>
        {room.is_private ? (
          <span className="text-xs text-zinc-500" title={t("room.private")}>
            <Icon name="lock" label={t("room.private")} />
          </span>
        ) : null}
      </div>
      {room.description ? (
        <p className="line-clamp-2 text-sm text-zinc-600 dark:text-zinc-400">{room.description}</p>
      ) : null}
      <NowPlayingLine roomId={room.id} />
      <div className="mt-auto flex flex-wrap items-center gap-1">
        <span className="mr-2 text-xs text-zinc-500 dark:text-zinc-400">
          {t("room.listeners", { count: room.member_count })}
        </span>
        {room.genres.slice(0, 4).map((genre) => (
          <GenreChip key={genre}>{genre}</GenreChip>
        ))}
      </div>
    </li>
  );
}

export function RoomList() {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const [genre, setGenre] = useState("");
  const q = useDeferredValue(text.trim());
  const genres = useQuery({ queryKey: ["genres"], queryFn: listGenres, staleTime: 300_000 });
  const rooms = useQuery({
    queryKey: ["rooms", q, genre],
    queryFn: () => listRooms({ q, genre }),
    refetchInterval: 15_000,
  });
  return (
    <Card label={t("discover.live")} className="space-y-4">
      <div className="flex flex-col gap-2 sm:flex-row sm:items-center">
        <h2 className="text-lg font-semibold sm:mr-auto">{t("discover.live")}</h2>
        <TextInput
          type="search"
          aria-label={t("discover.search")}
          placeholder={t("discover.search")}
          value={text}
          onChange={(event) => setText(event.target.value)}
          className="sm:max-w-xs"
        />
        <select
          aria-label={t("discover.genre")}
          value={genre}
          onChange={(event) => setGenre(event.target.value)}
          className="rounded-lg border border-zinc-300 bg-white px-2 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-900"
        >
          <option value="">{t("discover.allGenres")}</option>
          {genres.data?.map((item) => (
            <option key={item.slug} value={item.slug}>
              {item.name}
            </option>
          ))}
        </select>
      </div>
      {rooms.isPending ? <Spinner label={t("common.loading")} /> : null}
      {rooms.isError ? <ErrorText>{errorMessage(rooms.error)}</ErrorText> : null}
      {rooms.data && rooms.data.length === 0 ? (
        <p className="text-sm text-zinc-500 dark:text-zinc-400">{t("discover.noRooms")}</p>
      ) : null}
      <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3" aria-label={t("discover.roomList")}>
        {rooms.data?.map((room) => (
          <RoomCard key={room.id} room={room} />
        ))}
      </ul>
    </Card>
  );
}
