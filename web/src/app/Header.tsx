import logoUrl from "../assets/logo.svg";
import { type Language, useI18n } from "../shared/i18n.ts";
import { Link } from "../shared/Link.tsx";
import { navigate } from "../shared/router.ts";
import { signOut } from "../shared/session.ts";
import { type Theme, useTheme } from "../shared/theme.ts";

export function Header({ signedIn }: { signedIn: boolean }) {
  const { t, language, setLanguage } = useI18n();
  const [theme, setTheme] = useTheme();
  const select =
    "rounded-md border border-zinc-300 bg-white px-1.5 py-1 text-xs dark:border-zinc-700 dark:bg-zinc-900";
  return (
    <header className="sticky top-0 z-20 border-b border-zinc-200 bg-white/85 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/85">
      <nav
        aria-label={t("nav.main")}
        className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-4 gap-y-2 px-3 py-2 sm:px-6"
      >
        <Link to="/" className="flex items-center gap-2 text-lg font-bold tracking-tight">
          <img src={logoUrl} alt="" className="size-7" />
          TuneWave
        </Link>
        {signedIn ? (
          <>
            <Link to="/" className="text-sm hover:underline">
              {t("nav.discover")}
            </Link>
            <Link to="/profile" className="text-sm hover:underline">
              {t("nav.profile")}
            </Link>
          </>
        ) : null}
        <div className="ml-auto flex items-center gap-2">
          <select
            aria-label={t("nav.language")}
            className={select}
            value={language}
            onChange={(event) => setLanguage(event.target.value as Language)}
          >
            <option value="en">English</option>
            <option value="ru">Русский</option>
          </select>
          <select
            aria-label={t("nav.theme")}
            className={select}
            value={theme}
            onChange={(event) => setTheme(event.target.value as Theme)}
          >
            <option value="system">{t("theme.system")}</option>
            <option value="light">{t("theme.light")}</option>
            <option value="dark">{t("theme.dark")}</option>
          </select>
          {signedIn ? (
            <button
              type="button"
              className="rounded-md px-2 py-1 text-xs hover:bg-zinc-100 dark:hover:bg-zinc-800"
              onClick={() => {
                signOut();
                navigate("/signin", { replace: true });
              }}
            >
              {t("nav.signOut")}
            </button>
          ) : null}
        </div>
      </nav>
    </header>
  );
}
