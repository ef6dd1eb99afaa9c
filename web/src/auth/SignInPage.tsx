import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";

import { api, unwrap } from "../api/client.ts";
import { authConfigQuery } from "../api/queries.ts";
import { useI18n } from "../shared/i18n.ts";
import { navigate } from "../shared/router.ts";
import { signIn } from "../shared/session.ts";
import { Button, Card, ErrorNotice, Field, Spinner, TextInput } from "../shared/ui.tsx";
import { rememberNext } from "./callback.ts";

export function SignInPage({ next, expired }: { next: string; expired: boolean }) {
  const { t } = useI18n();
  const config = useQuery(authConfigQuery);
  const [name, setName] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const devLogin = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const token = await unwrap(api.POST("/auth/dev-login", { body: { name: name.trim() } }));
      signIn(token.access_token, token.expires_in);
      navigate(next, { replace: true });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const provider = (loginUrl: string) => {
    rememberNext(next);
    window.location.assign(loginUrl);
  };

  return (
    <div className="mx-auto max-w-md space-y-6 py-10">
      <div className="space-y-2 text-center">
        <h1 className="text-3xl font-bold tracking-tight">{t("signin.title")}</h1>
        <p className="text-zinc-600 dark:text-zinc-300">{t("signin.tagline")}</p>
      </div>
      {expired ? (
        <p role="status" className="rounded-lg bg-amber-100 p-3 text-sm text-amber-900 dark:bg-amber-900/40 dark:text-amber-100">
          {t("signin.expired")}
        </p>
      ) : null}
      <Card className="space-y-4">
        {config.isPending ? <Spinner label={t("common.loading")} /> : null}
        {config.isError ? <ErrorNotice error={config.error} /> : null}
        {config.data?.google.enabled ? (
          <Button tone="secondary" className="w-full" onClick={() => provider(config.data.google.login_url)}>
            {t("signin.google")}
          </Button>
        ) : null}
        {config.data?.spotify.enabled ? (
          <Button tone="secondary" className="w-full" onClick={() => provider(config.data.spotify.login_url)}>
            {t("signin.spotify")}
          </Button>
        ) : null}
        {config.data && !config.data.google.enabled && !config.data.spotify.enabled && !config.data.dev_login_enabled ? (
          <p className="text-sm text-zinc-600 dark:text-zinc-300">{t("signin.none")}</p>
        ) : null}
        {config.data?.dev_login_enabled ? (
          <form
            onSubmit={devLogin}
            className={`space-y-3 ${config.data.google.enabled || config.data.spotify.enabled ? "border-t border-zinc-200 pt-4 dark:border-zinc-800" : ""}`}
          >
            <Field label={t("signin.devName")} hint={t("signin.devHint")}>
              <TextInput
                name="name"
                value={name}
                onChange={(event) => setName(event.target.value)}
                required
                maxLength={64}
                autoComplete="username"
              />
            </Field>
            <Button type="submit" className="w-full" disabled={busy || !name.trim()}>
              {t("signin.devSubmit")}
            </Button>
            <ErrorNotice error={error} />
          </form>
        ) : null}
      </Card>
    </div>
  );
}
