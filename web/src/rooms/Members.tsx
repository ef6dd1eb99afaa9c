import type { User } from "../api/client.ts";
import { useI18n } from "../shared/i18n.ts";

export function Members({ members, online, ownerId }: { members: User[]; online: Record<string, true>; ownerId: string | null }) {
  const { t } = useI18n();
  const sorted = [...members].sort((a, b) => Number(Boolean(online[b.id])) - Number(Boolean(online[a.id])));
  const here = members.filter((member) => online[member.id]).length;
  return (
    <section aria-label={t("members.title")} className="space-y-2">
      <h2 className="text-lg font-semibold">
        {t("members.title")}{" "}
        <span className="text-sm font-normal text-zinc-500">{t("members.online", { count: here, total: members.length })}</span>
      </h2>
      <ul className="max-h-60 space-y-1 overflow-y-auto">
        {sorted.map((member) => (
          <li key={member.id} className="flex items-center gap-2 text-sm">
            <span
              aria-hidden="true"
              className={`size-2 rounded-full ${online[member.id] ? "bg-emerald-500" : "bg-zinc-300 dark:bg-zinc-600"}`}
            />
            <span className="truncate">{member.display_name}</span>
            <span className="sr-only">{online[member.id] ? t("members.here") : t("members.away")}</span>
            {member.id === ownerId ? <span className="text-xs text-violet-600 dark:text-violet-400">{t("members.owner")}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
