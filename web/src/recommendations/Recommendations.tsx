import { useQuery } from "@tanstack/react-query";

import { useGenreNames } from "../shared/genre-names.ts";
import { useI18n } from "../shared/i18n.ts";
import { PersonWithReason } from "../shared/PersonWithReason.tsx";
import { RoomTitle } from "../shared/RoomTitle.tsx";
import { Card, GenreChip } from "../shared/ui.tsx";
import { readReasonParts, reasonText } from "../shared/reasons.ts";
import { recommendedPeopleQuery, recommendedRoomsQuery } from "./recommendations.ts";

/** "Rooms for you": hidden while loading, on a failure, or when there is nothing to say. */
export function RecommendedRooms() {
  const i18n = useI18n();
  const { t } = i18n;
  const genreName = useGenreNames();
  const rooms = useQuery(recommendedRoomsQuery);
  if (!rooms.data?.length) return null;
  return (
    <Card label={t("discover.forYou")} className="space-y-3">
      <h2 className="text-lg font-semibold">{t("discover.forYou")}</h2>
      <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        {rooms.data.map(({ room, reason_parts, reason: english }) => {
          const reason = reasonText(readReasonParts(reason_parts), english, i18n, genreName);
          return (
            <li key={room.id} className="min-w-0 rounded-xl border border-zinc-200 p-3 dark:border-zinc-800">
              <RoomTitle room={room} />
              {reason ? (
                <p className="break-words text-sm text-zinc-600 dark:text-zinc-400" data-testid="reason">
                  {reason}
                </p>
              ) : null}
              <div className="mt-1 flex flex-wrap gap-1">
                {room.genres.slice(0, 4).map((genre) => (
                  <GenreChip key={genre} slug={genre}>
                    {genreName(genre)}
                  </GenreChip>
                ))}
              </div>
            </li>
          );
        })}
      </ul>
    </Card>
  );
}

/** "People with your taste": hidden while loading, on a failure, or when there is nobody. */
export function PeopleLikeYou() {
  const i18n = useI18n();
  const { t } = i18n;
  const people = useQuery(recommendedPeopleQuery);
  if (!people.data?.length) return null;
  return (
    <Card label={t("discover.people")} className="min-w-0 space-y-3">
      <h2 className="text-lg font-semibold">{t("discover.people")}</h2>
      <ul className="space-y-2">
        {people.data.map(({ user: person, reason_parts, reason }) => (
          <PersonWithReason key={person.id} person={person} reasonParts={reason_parts} reason={reason} />
        ))}
      </ul>
    </Card>
  );
}
