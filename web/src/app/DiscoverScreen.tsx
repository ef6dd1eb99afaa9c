import { useState } from "react";

import { PeopleLikeYou, RecommendedRooms } from "../recommendations/Recommendations.tsx";
import { CreateRoomForm } from "../rooms/CreateRoomForm.tsx";
import { RoomList } from "../rooms/RoomList.tsx";
import { useI18n } from "../shared/i18n.ts";
import { Button } from "../shared/ui.tsx";

export function DiscoverScreen() {
  const { t } = useI18n();
  const [creating, setCreating] = useState(false);
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h1 className="text-2xl font-bold tracking-tight">{t("discover.title")}</h1>
        {!creating ? <Button onClick={() => setCreating(true)}>{t("create.open")}</Button> : null}
      </div>
      {creating ? <CreateRoomForm onClose={() => setCreating(false)} /> : null}
      <RecommendedRooms />
      <div className="grid gap-4 lg:grid-cols-[1fr_18rem]">
        <RoomList />
        <PeopleLikeYou />
      </div>
    </div>
  );
}
