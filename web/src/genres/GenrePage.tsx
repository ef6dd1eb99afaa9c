import { useQuery } from "@tanstack/react-query";

import { useI18n } from "../shared/i18n.ts";
import { PersonWithReason } from "../shared/PersonWithReason.tsx";
import { RoomTitle } from "../shared/RoomTitle.tsx";
import { Card, ErrorNotice, GenreChip, Spinner } from "../shared/ui.tsx";
import { genrePageQuery } from "./genres-api.ts";

/** A genre's page: its live rooms, top tracks, the people who love it, related genres. */
export function GenrePage({ slug }: { slug: string }) {
  const i18n = useI18n();
  const { t, plural } = i18n;
  const page = useQuery(genrePageQuery(slug));
  if (page.isPending) return <Spinner label={t("common.loading")} />;
  if (page.isError) return <ErrorNotice error={page.error} />;
  const { genre, rooms, top_tracks: tracks, people, related } = page.data;
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-baseline gap-3">
        <h1 className="text-2xl font-bold tracking-tight">{genre.name}</h1>
        <span className="text-sm text-zinc-600 dark:text-zinc-400">
          {plural("genre.tracks", page.data.track_count)}
        </span>
      </div>
      {related.length ? (
        <div className="flex flex-wrap items-center gap-1" aria-label={t("genre.related")}>
          <span className="text-sm text-zinc-600 dark:text-zinc-400">{t("genre.related")}:</span>
          {related.map((other) => (
            <GenreChip key={other.slug} slug={other.slug}>
              {other.name}
            </GenreChip>
          ))}
        </div>
      ) : null}
      <div className="grid gap-4 lg:grid-cols-[minmax(0,1fr)_18rem]">
        <div className="min-w-0 space-y-4">
          <Card label={t("genre.rooms")} className="space-y-3">
            <h2 className="text-lg font-semibold">{t("genre.rooms")}</h2>
            {rooms.length ? (
              <ul className="grid gap-3 sm:grid-cols-2">
                {rooms.map(({ room, playing_now: playingNow }) => (
                  <li key={room.id} className="min-w-0 rounded-xl border border-zinc-200 p-3 dark:border-zinc-800">
                    <RoomTitle room={room} />
                    {room.now_playing ? (
                      <p className="break-words text-sm text-zinc-600 dark:text-zinc-400" data-testid="room-now-playing">
                        {t(playingNow ? "genre.playingNow" : "genre.playingOther", {
                          title: room.now_playing.title,
                          artists: room.now_playing.artists.join(", "),
                        })}
                      </p>
                    ) : (
                      <p className="text-sm text-zinc-600 dark:text-zinc-400">{t("genre.tagged")}</p>
                    )}
                    {room.online_count > 0 ? (
                      <p className="text-xs text-zinc-600 dark:text-zinc-400">{plural("reason.here_now", room.online_count)}</p>
                    ) : null}
                  </li>
                ))}
              </ul>
            ) : (
              <p className="text-sm text-zinc-600 dark:text-zinc-400">{t("genre.noRooms")}</p>
            )}
          </Card>
          <Card label={t("genre.topTracks")} className="space-y-3">
            <h2 className="text-lg font-semibold">{t("genre.topTracks")}</h2>
            {tracks.length ? (
              <ol className="list-decimal space-y-1 pl-6">
                {tracks.map(({ track, recent_plays: plays }) => (
                  <li key={track.spotify_id} className="break-words">
                    <span className="font-medium">{track.title}</span>{" "}
                    <span className="text-sm text-zinc-600 dark:text-zinc-400">
                      {track.artists.join(", ")}
                      {plays > 0 ? ` · ${plural("genre.recentPlays", plays)}` : ""}
                    </span>
                  </li>
                ))}
              </ol>
            ) : (
              <p className="text-sm text-zinc-600 dark:text-zinc-400">{t("genre.noTracks")}</p>
            )}
          </Card>
        </div>
        <Card label={t("genre.people")} className="min-w-0 space-y-3">
          <h2 className="text-lg font-semibold">{t("genre.people")}</h2>
          {people.length ? (
            <ul className="space-y-2">
              {people.map(({ user: person, reason_parts, reason }) => (
                <PersonWithReason key={person.id} person={person} reasonParts={reason_parts} reason={reason} />
              ))}
            </ul>
          ) : (
            <p className="text-sm text-zinc-600 dark:text-zinc-400">{t("genre.noPeople")}</p>
          )}
        </Card>
      </div>
    </div>
  );
}
