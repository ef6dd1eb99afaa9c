import { useGenreNames } from "./genre-names.ts";
import { useI18n } from "./i18n.ts";
import { readReasonParts, reasonText } from "./reasons.ts";

interface Person {
  id: string;
  display_name: string;
  is_demo: boolean;
}

/** One person in a list (people for you, a genre's fans) with why they are there, in the
 * reader's language. */
export function PersonWithReason({
  person,
  reasonParts,
  reason: english,
}: {
  person: Person;
  reasonParts: unknown;
  reason: string | null;
}) {
  const i18n = useI18n();
  const genreName = useGenreNames();
  const reason = reasonText(readReasonParts(reasonParts), english, i18n, genreName);
  return (
    <li className="flex min-w-0 flex-col">
      <span className="truncate font-medium" title={person.display_name}>
        {person.display_name}
      </span>
      {person.is_demo ? (
        <span className="text-xs italic text-zinc-600 dark:text-zinc-400">{i18n.t("profile.sample")}</span>
      ) : null}
      {reason ? <span className="break-words text-sm text-zinc-600 dark:text-zinc-400">{reason}</span> : null}
    </li>
  );
}
