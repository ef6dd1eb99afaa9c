import { useState } from "react";

import { GenresToExplore } from "../genres/GenresToExplore.tsx";
import { PeopleLikeYou, RecommendedRooms } from "../recommendations/Recommendations.tsx";
import { CreateRoomForm } from "../rooms/CreateRoomForm.tsx";
import { RoomList } from "../rooms/RoomList.tsx";
import { useI18n } from "../shared/i18n.ts";
import { Button } from "../shared/ui.tsx";

export function DiscoverScreen() {
  const { t } = useI18n();
  // null: closed; a string: open, with that name filled in ("No rooms match. Create “x”").
  const [creating, setCreating] = useState<string | null>(null);
  const open = (name: string) => {
    setCreating(name);
    window.scrollTo({ top: 0, behavior: "smooth" });
  };
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h1 className="text-2xl font-bold tracking-tight">{t("discover.title")}</h1>
        {creating === null ? <Button onClick={() => open("")}>{t("create.open")}</Button> : null}
      </div>
      {creating !== null ? (
        <CreateRoomForm key={creating} initialName={creating} onClose={() => setCreating(null)} />
      ) : null}
      <RecommendedRooms />
      <GenresToExplore />
      <div className="grid gap-4 lg:grid-cols-[minmax(0,1fr)_18rem]">
        <RoomList onCreate={open} />
        <PeopleLikeYou />
      </div>
    </div>
  );
}
