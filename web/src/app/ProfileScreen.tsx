import { useQuery } from "@tanstack/react-query";

import { meQuery } from "../api/queries.ts";
import { HistoryList, LinkedProviders, ProfileForm, TopLists } from "../profile/ProfilePanels.tsx";
import { useI18n } from "../shared/i18n.ts";
import { ErrorNotice, Spinner } from "../shared/ui.tsx";

export default function ProfileScreen() {
  const { t } = useI18n();
  const me = useQuery(meQuery);
  if (me.isPending) return <Spinner label={t("common.loading")} />;
  if (me.isError) return <ErrorNotice error={me.error} />;
  return (
    <div className="space-y-4">
      <h1 className="break-words text-2xl font-bold tracking-tight">{me.data.display_name}</h1>
      <div className="grid gap-4 lg:grid-cols-2">
        <ProfileForm me={me.data} />
        <div className="space-y-4">
          <TopLists />
          <LinkedProviders />
        </div>
      </div>
      <HistoryList />
    </div>
  );
}
