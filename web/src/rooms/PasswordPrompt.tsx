import { type FormEvent, useState } from "react";

import { errorText } from "../shared/errors.ts";
import { useI18n } from "../shared/i18n.ts";
import { Button, Card, ErrorText, Field, TextInput } from "../shared/ui.tsx";
import { Icon } from "../shared/icons.tsx";
import { useCountdown } from "./countdown.ts";

/** "0:42" for a countdown. */
function clock(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

export function PasswordPrompt({
  roomName,
  error,
  busy,
  lockedUntilMs,
  onSubmit,
}: {
  roomName: string;
  error: unknown;
  busy: boolean;
  lockedUntilMs: number | null;
  onSubmit: (password: string) => void;
}) {
  const { t } = useI18n();
  const [password, setPassword] = useState("");
  const lockedFor = useCountdown(lockedUntilMs);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!lockedFor) onSubmit(password);
  };
  // The alert is said once ("… try again in 42 s"); the button counts down silently.
  const message = error && (lockedFor > 0 || !lockedUntilMs) ? errorText(error, t) : null;
  return (
    <Card className="mx-auto mt-8 max-w-sm space-y-3" label={t("room.privateTitle")}>
      <h1 className="flex min-w-0 items-center gap-2 text-xl font-semibold">
        <Icon name="lock" className="size-5 shrink-0" />
        <span className="min-w-0 break-words [overflow-wrap:anywhere]">{roomName}</span>
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
        <Button
          type="submit"
          disabled={busy || !password || lockedFor > 0}
          aria-busy={busy || undefined}
          className="w-full"
          data-testid="join-button"
        >
          {t("room.enter")}
          {lockedFor > 0 ? <span className="tabular-nums" aria-hidden="true">({clock(lockedFor)})</span> : null}
        </Button>
        <ErrorText>{message}</ErrorText>
      </form>
    </Card>
  );
}
