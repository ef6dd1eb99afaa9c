import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";

import type { QueuePolicy } from "../api/client.ts";
import { genresQuery } from "../api/queries.ts";
import { GenrePicker } from "../shared/GenrePicker.tsx";
import { useI18n } from "../shared/i18n.ts";
import { navigate } from "../shared/router.ts";
import { Button, Card, ErrorNotice, Field, TextInput } from "../shared/ui.tsx";
import { createRoom, ROOMS_KEY } from "./rooms-api.ts";

export function CreateRoomForm({ onClose, initialName = "" }: { onClose: () => void; initialName?: string }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const genres = useQuery(genresQuery);
  const [name, setName] = useState(initialName);
  const [description, setDescription] = useState("");
  const [isPrivate, setPrivate] = useState(false);
  const [password, setPassword] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [policy, setPolicy] = useState<QueuePolicy>("members");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const room = await createRoom({
        name: name.trim(),
        description: description.trim(),
        is_private: isPrivate,
        password: isPrivate ? password : null,
        genres: chosen,
        queue_policy: policy,
      });
      await queryClient.invalidateQueries({ queryKey: ROOMS_KEY });
      navigate(`/room/${room.id}`);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card label={t("create.title")} className="space-y-4">
      <h2 className="text-lg font-semibold">{t("create.title")}</h2>
      <form onSubmit={submit} className="grid gap-4 sm:grid-cols-2">
        <Field label={t("create.name")}>
          <TextInput name="room-name" autoFocus value={name} onChange={(e) => setName(e.target.value)} required maxLength={80} />
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
            <Field label={t("create.password")} hint={t("create.passwordHint")}>
              <TextInput
                type="password"
                name="room-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                required
                minLength={4}
                maxLength={128}
                autoComplete="new-password"
              />
            </Field>
          ) : null}
        </div>
        <fieldset className="space-y-1 text-sm">
          <legend className="font-medium text-zinc-700 dark:text-zinc-300">{t("create.policy")}</legend>
          <label className="flex items-center gap-2">
            <input type="radio" name="policy" checked={policy === "members"} onChange={() => setPolicy("members")} />
            {t("create.policyMembers")}
          </label>
          <label className="flex items-center gap-2">
            <input type="radio" name="policy" checked={policy === "owner"} onChange={() => setPolicy("owner")} />
            {t("create.policyOwner")}
          </label>
        </fieldset>
        <div className="sm:col-span-2">
          <GenrePicker options={genres.data ?? []} value={chosen} onChange={setChosen} label={t("create.genres")} />
        </div>
        <div className="flex gap-2 sm:col-span-2">
          <Button type="submit" disabled={busy || !name.trim()}>
            {t("create.submit")}
          </Button>
          <Button tone="ghost" onClick={onClose}>
            {t("common.cancel")}
          </Button>
        </div>
        <div className="sm:col-span-2">
          <ErrorNotice error={error} />
        </div>
      </form>
    </Card>
  );
}
