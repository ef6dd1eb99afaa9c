import type { User } from "../api/client.ts";
import { isDemo } from "../shared/contract.ts";
import { useI18n } from "../shared/i18n.ts";

/** The room's members, those connected now first; sample (demo) profiles say what they are. */
export function Members({ members, online, ownerId }: { members: User[]; online: Record<string, true>; ownerId: string | null }) {
  const { t, plural } = useI18n();
  const sorted = [...members].sort((a, b) => Number(Boolean(online[b.id])) - Number(Boolean(online[a.id])));
  const here = members.filter((member) => online[member.id]).length;
  return (
    <section aria-label={t("members.title")} className="space-y-2">
      <h2 className="text-lg font-semibold">
        {t("members.title")}{" "}
        <span className="text-sm font-normal text-zinc-600 dark:text-zinc-400">
          {t("members.online", { here: plural("room.hereNow", here), members: plural("room.memberCount", members.length) })}
        </span>
      </h2>
      <ul className="max-h-60 space-y-1 overflow-y-auto">
        {sorted.map((member) => (
          <li key={member.id} className="flex min-w-0 items-center gap-2 text-sm" data-testid="member">
            <span
              aria-hidden="true"
              className={`size-2 shrink-0 rounded-full ${online[member.id] ? "bg-emerald-500" : "bg-zinc-300 dark:bg-zinc-600"}`}
            />
            <span className="min-w-0 truncate" title={member.display_name}>
              {member.display_name}
            </span>
            <span className="sr-only">{online[member.id] ? t("members.here") : t("members.away")}</span>
            {member.id === ownerId ? <span className="shrink-0 text-xs text-violet-700 dark:text-violet-300">{t("members.owner")}</span> : null}
            {isDemo(member) ? (
              <span className="min-w-0 truncate text-xs italic text-zinc-600 dark:text-zinc-400" title={t("members.demo")}>
                {t("members.demo")}
              </span>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
