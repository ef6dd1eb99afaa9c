import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";

import type { QueuePolicy, Room } from "../api/client.ts";
import { genresQuery } from "../api/queries.ts";
import { GenrePicker } from "../shared/GenrePicker.tsx";
import { useI18n } from "../shared/i18n.ts";
import { navigate } from "../shared/router.ts";
import { Button, ErrorNotice, Field, TextInput } from "../shared/ui.tsx";
import { deleteRoom, ROOMS_KEY, updateRoom } from "./rooms-api.ts";

export function EditRoomForm({ room, onSaved, onClose }: { room: Room; onSaved: () => void; onClose: () => void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const genres = useQuery(genresQuery);
  const [name, setName] = useState(room.name);
  const [description, setDescription] = useState(room.description);
  const [isPrivate, setPrivate] = useState(room.is_private);
  const [password, setPassword] = useState("");
  const [chosen, setChosen] = useState<string[]>(room.genres);
  const [policy, setPolicy] = useState<QueuePolicy>(room.queue_policy);
  const [error, setError] = useState<unknown>(null);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      await updateRoom(room.id, {
        name: name.trim(),
        description,
        is_private: isPrivate,
        ...(isPrivate && password ? { password } : {}),
        genres: chosen,
        queue_policy: policy,
      });
      // Discover's lists show the name, genres and privacy just changed.
      await queryClient.invalidateQueries({ queryKey: ROOMS_KEY });
      onSaved();
      onClose();
    } catch (caught) {
      setError(caught);
    }
  };

  const remove = async () => {
    if (!window.confirm(t("edit.confirmDelete", { name: room.name }))) return;
    try {
      await deleteRoom(room.id);
      await queryClient.invalidateQueries({ queryKey: ROOMS_KEY });
      navigate("/", { replace: true });
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <form onSubmit={save} className="grid gap-3 sm:grid-cols-2" aria-label={t("edit.title")}>
      <Field label={t("create.name")}>
        <TextInput value={name} onChange={(e) => setName(e.target.value)} required maxLength={80} />
      </Field>
      <Field label={t("create.description")}>
        <TextInput value={description} onChange={(e) => setDescription(e.target.value)} maxLength={2000} />
      </Field>
      <div className="space-y-2">
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.target.checked)} />
          {t("create.private")}
        </label>
        {isPrivate ? (
          <Field label={t("edit.newPassword")} hint={room.is_private ? t("edit.keepPassword") : t("create.passwordHint")}>
            <TextInput
              type="password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              minLength={4}
              maxLength={128}
              required={!room.is_private}
              autoComplete="new-password"
            />
          </Field>
        ) : null}
      </div>
      <fieldset className="space-y-1 text-sm">
        <legend className="font-medium">{t("create.policy")}</legend>
        <label className="flex items-center gap-2">
          <input type="radio" name="edit-policy" checked={policy === "members"} onChange={() => setPolicy("members")} />
          {t("create.policyMembers")}
        </label>
        <label className="flex items-center gap-2">
          <input type="radio" name="edit-policy" checked={policy === "owner"} onChange={() => setPolicy("owner")} />
          {t("create.policyOwner")}
        </label>
      </fieldset>
      <div className="sm:col-span-2">
        <GenrePicker options={genres.data ?? []} value={chosen} onChange={setChosen} label={t("create.genres")} />
      </div>
      <div className="flex flex-wrap gap-2 sm:col-span-2">
        <Button type="submit">{t("edit.save")}</Button>
        <Button tone="ghost" onClick={onClose}>
          {t("common.cancel")}
        </Button>
        <Button tone="danger" className="ml-auto" onClick={() => void remove()}>
          {t("edit.delete")}
        </Button>
      </div>
      <div className="sm:col-span-2">
        <ErrorNotice error={error} />
      </div>
    </form>
  );
}
