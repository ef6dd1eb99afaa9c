import { useQuery } from "@tanstack/react-query";

import { useI18n } from "../shared/i18n.ts";
import { Link } from "../shared/Link.tsx";
import { Card, GenreChip } from "../shared/ui.tsx";
import { loadRecommendedPeople, loadRecommendedRooms } from "./recommendations.ts";

/** "Rooms for you": hidden while the endpoint does not exist or has nothing to say. */
export function RecommendedRooms() {
  const { t } = useI18n();
  const rooms = useQuery({ queryKey: ["recommendations", "rooms"], queryFn: loadRecommendedRooms, retry: false });
  if (!rooms.data?.length) return null;
  return (
    <Card label={t("discover.forYou")} className="space-y-3">
      <h2 className="text-lg font-semibold">{t("discover.forYou")}</h2>
      <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        {rooms.data.map((room) => (
          <li key={room.id} className="rounded-xl border border-zinc-200 p-3 dark:border-zinc-800">
            <Link to={`/room/${room.id}`} className="font-medium hover:underline">
              {room.name}
            </Link>
            {room.reason ? <p className="text-sm text-zinc-600 dark:text-zinc-400">{room.reason}</p> : null}
            <div className="mt-1 flex flex-wrap gap-1">
              {room.genres.slice(0, 4).map((genre) => (
                <GenreChip key={genre}>{genre}</GenreChip>
              ))}
            </div>
          </li>
        ))}
      </ul>
    </Card>
  );
}

/** "People with your taste": hidden while the endpoint does not exist or has nobody. */
export function PeopleLikeYou() {
  const { t } = useI18n();
  const people = useQuery({ queryKey: ["recommendations", "users"], queryFn: loadRecommendedPeople, retry: false });
  if (!people.data?.length) return null;
  return (
    <Card label={t("discover.people")} className="space-y-3">
      <h2 className="text-lg font-semibold">{t("discover.people")}</h2>
      <ul className="space-y-2">
        {people.data.map((person) => (
          <li key={person.id} className="flex flex-col">
            <span className="font-medium">{person.displayName}</span>
            {person.reason ? <span className="text-sm text-zinc-600 dark:text-zinc-400">{person.reason}</span> : null}
          </li>
        ))}
      </ul>
    </Card>
  );
}
