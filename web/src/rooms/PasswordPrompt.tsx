import { type FormEvent, useState } from "react";

import { useI18n } from "../shared/i18n.ts";
import { Button, Card, ErrorText, Field, TextInput } from "../shared/ui.tsx";
import { Icon } from "../shared/icons.tsx";

export function PasswordPrompt({
  roomName,
  error,
  busy,
  onSubmit,
}: {
  roomName: string;
  error: string | null;
  busy: boolean;
  onSubmit: (password: string) => void;
}) {
  const { t } = useI18n();
  const [password, setPassword] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(password);
  };
  return (
    <Card className="mx-auto mt-8 max-w-sm space-y-3" label={t("room.privateTitle")}>
      <h1 className="flex items-center gap-2 text-xl font-semibold">
        <Icon name="lock" className="size-5" /> {roomName}
      </h1>
      <p className="text-sm text-zinc-600 dark:text-zinc-300">{t("room.privateHint")}</p>
      <form onSubmit={submit} className="space-y-3">
        <Field label={t("room.password")}>
          <TextInput
            type="password"
            name="join-password"
            autoFocus
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            autoComplete="current-password"
            required
          />
        </Field>
        <Button type="submit" disabled={busy || !password} className="w-full">
          {t("room.enter")}
        </Button>
        <ErrorText>{error === "wrong-password" ? t("room.wrongPassword") : error}</ErrorText>
      </form>
    </Card>
  );
}
