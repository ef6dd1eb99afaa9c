import { useEffect, useState } from "react";

import { hasKey, useI18n } from "../shared/i18n.ts";
import { Link } from "../shared/Link.tsx";
import { navigate } from "../shared/router.ts";
import { signIn } from "../shared/session.ts";
import { Card, ErrorText, Spinner } from "../shared/ui.tsx";
import { type CallbackResult, parseCallbackFragment, takeNext } from "./callback.ts";

export function SignedInPage() {
  const { t } = useI18n();
  const [result] = useState<CallbackResult>(() => parseCallbackFragment(window.location.hash));

  useEffect(() => {
    // Drop the fragment at once: the token must not stay in the address bar or history.
    window.history.replaceState(null, "", window.location.pathname);
    if (result.kind === "token") {
      signIn(result.token, result.expiresInS);
      navigate(takeNext(), { replace: true });
    } else if (result.kind === "empty") {
      navigate("/signin", { replace: true });
    }
  }, [result]);

  // The API's sign-in codes (docs/auth.md), said in the user's language; never its English text.
  const signInErrorText = (code: string) => {
    const key = `signin.error.${code}`;
    return hasKey(key) ? t(key) : t("error.unknown");
  };
  if (result.kind === "error") {
    return (
      <Card className="mx-auto mt-10 max-w-md space-y-3">
        <h1 className="text-xl font-semibold">{t("signin.failed")}</h1>
        <ErrorText>{signInErrorText(result.code)}</ErrorText>
        <Link to="/signin" className="text-violet-700 underline dark:text-violet-400">
          {t("signin.tryAgain")}
        </Link>
      </Card>
    );
  }
  return <Spinner label={t("common.loading")} />;
}
