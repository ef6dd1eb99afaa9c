import { useQuery } from "@tanstack/react-query";
import { useDeferredValue, useState } from "react";

import type { Room } from "../api/client.ts";
import { genresQuery } from "../api/queries.ts";
import { isDemo, onlineCount } from "../shared/contract.ts";
import { useI18n } from "../shared/i18n.ts";
import { Link } from "../shared/Link.tsx";
import { Button, Card, DemoBadge, ErrorNotice, GenreChip, Skeleton, TextInput } from "../shared/ui.tsx";
import { nowPlayingQuery, roomsQuery } from "./rooms-api.ts";
import { Icon } from "../shared/icons.tsx";

function NowPlayingLine({ roomId }: { roomId: string }) {
  const { t } = useI18n();
  const now = useQuery(nowPlayingQuery(roomId));
  if (!now.data) return null;
  const line = `${now.data.title} — ${now.data.artists}`;
  return (
    <p className="truncate text-sm text-zinc-600 dark:text-zinc-300" title={line}>
      <Icon name="note" className="mr-1 size-3.5 align-[-2px]" />
      <span className="sr-only">{t("room.nowPlaying")}: </span>
      {line}
    </p>
  );
}

/** "2 here now · 14 members": presence and membership, never one passed off as the other. */
export function RoomCounts({ room }: { room: Room }) {
  const { t, plural } = useI18n();
  const online = onlineCount(room);
  return (
    <span className="mr-2 text-xs text-zinc-600 dark:text-zinc-400" data-testid="room-counts">
      {online !== null ? (
        <>
          <span className={online > 0 ? "font-medium text-emerald-700 dark:text-emerald-400" : ""}>
            {online > 0 ? plural("room.hereNow", online) : t("room.nobodyHere")}
          </span>
          {" · "}
        </>
      ) : null}
      {plural("room.memberCount", room.member_count)}
    </span>
  );
}

function RoomCard({ room }: { room: Room }) {
  const { t } = useI18n();
  return (
    <li className="flex min-w-0 flex-col gap-2 rounded-xl border border-zinc-200 bg-white p-4 shadow-sm transition hover:border-violet-400 dark:border-zinc-800 dark:bg-zinc-900">
      <div className="flex min-w-0 items-start justify-between gap-2">
        <Link
          to={`/room/${room.id}`}
          className="min-w-0 break-words text-base font-semibold [overflow-wrap:anywhere] hover:underline"
        >
          {room.name}
        </Link>
        <span className="flex shrink-0 items-center gap-1">
          {isDemo(room) ? <DemoBadge /> : null}
          {room.is_private ? (
            <span className="text-xs text-zinc-600 dark:text-zinc-400" title={t("room.private")}>
              <Icon name="lock" label={t("room.private")} />
            </span>
          ) : null}
        </span>
      </div>
      {room.description ? (
        <p className="line-clamp-2 break-words text-sm text-zinc-600 [overflow-wrap:anywhere] dark:text-zinc-400">
          {room.description}
        </p>
      ) : null}
      <NowPlayingLine roomId={room.id} />
      <div className="mt-auto flex flex-wrap items-center gap-1">
        <RoomCounts room={room} />
        {room.genres.slice(0, 4).map((genre) => (
          <GenreChip key={genre} slug={genre}>
            {genre}
          </GenreChip>
        ))}
      </div>
    </li>
  );
}

/** Card-shaped placeholders while the list loads, so nothing below jumps when it arrives. */
function RoomSkeletons() {
  const { t } = useI18n();
  return (
    <div role="status" data-testid="room-skeletons">
      <span className="sr-only">{t("discover.loadingRooms")}</span>
      <ul aria-hidden="true" className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        {[0, 1, 2].map((index) => (
          <li key={index} className="space-y-3 rounded-xl border border-zinc-200 p-4 dark:border-zinc-800">
            <Skeleton className="h-5 w-2/3" />
            <Skeleton className="h-4 w-full" />
            <Skeleton className="h-3 w-1/3" />
          </li>
        ))}
      </ul>
    </div>
  );
}

export function RoomList({ onCreate }: { onCreate: (name: string) => void }) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const [genre, setGenre] = useState("");
  const q = useDeferredValue(text.trim());
  const genres = useQuery(genresQuery);
  const rooms = useQuery(roomsQuery(q, genre));
  const searching = Boolean(q || genre);
  return (
    <Card label={t("discover.live")} className="min-w-0 space-y-4">
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
          className="min-w-0 rounded-lg border border-zinc-300 bg-white px-2 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-900"
        >
          <option value="">{t("discover.allGenres")}</option>
          {genres.data?.map((item) => (
            <option key={item.slug} value={item.slug}>
              {item.name}
            </option>
          ))}
        </select>
      </div>
      {rooms.isPending ? <RoomSkeletons /> : null}
      {rooms.isError ? <ErrorNotice error={rooms.error} /> : null}
      {rooms.data && rooms.data.length === 0 ? (
        <div className="flex flex-wrap items-center gap-3 rounded-xl border border-dashed border-zinc-300 p-4 dark:border-zinc-700">
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            {searching ? t("discover.noRooms") : t("discover.noRoomsYet")}
          </p>
          <Button tone="secondary" onClick={() => onCreate(text.trim())}>
            {text.trim() ? t("discover.createNamed", { name: text.trim() }) : t("discover.createFirst")}
          </Button>
        </div>
      ) : null}
      {rooms.data && rooms.data.length > 0 ? (
        <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3" aria-label={t("discover.roomList")}>
          {rooms.data.map((room) => (
            <RoomCard key={room.id} room={room} />
          ))}
        </ul>
      ) : null}
    </Card>
  );
}
