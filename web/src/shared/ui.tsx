/** Small building blocks every screen uses, styled once for light and dark. */
import type { ButtonHTMLAttributes, ComponentProps, ReactNode } from "react";

import { errorText } from "./errors.ts";
import { useI18n } from "./i18n.ts";
import { Link } from "./Link.tsx";
import { genrePath } from "./router.ts";

type Tone = "primary" | "secondary" | "danger" | "ghost";

const TONES: Record<Tone, string> = {
  primary:
    "bg-violet-700 text-white enabled:hover:bg-violet-800 disabled:bg-zinc-200 disabled:text-zinc-500 dark:bg-violet-400 dark:text-zinc-950 dark:enabled:hover:bg-violet-300 dark:disabled:bg-zinc-800 dark:disabled:text-zinc-400",
  secondary:
    "border border-zinc-300 bg-white text-zinc-900 enabled:hover:bg-zinc-50 disabled:border-dashed disabled:text-zinc-400 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:enabled:hover:bg-zinc-800 dark:disabled:text-zinc-500",
  danger: "bg-rose-700 text-white enabled:hover:bg-rose-800 disabled:opacity-50",
  ghost:
    "text-zinc-700 enabled:hover:bg-zinc-100 disabled:text-zinc-300 dark:text-zinc-200 dark:enabled:hover:bg-zinc-800 dark:disabled:text-zinc-600",
};

export function Button({
  tone = "primary",
  className = "",
  type = "button",
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & { tone?: Tone }) {
  return (
    <button
      type={type}
      className={`inline-flex items-center justify-center gap-2 rounded-lg px-3 py-2 text-sm font-medium transition focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-violet-500 disabled:cursor-not-allowed ${TONES[tone]} ${className}`}
      {...props}
    />
  );
}

export function TextInput({ className = "", ...props }: ComponentProps<"input">) {
  return (
    <input
      className={`w-full rounded-lg border border-zinc-300 bg-white px-3 py-2 text-sm text-zinc-900 placeholder:text-zinc-500 focus:border-violet-500 focus:outline-2 focus:outline-violet-500/40 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 ${className}`}
      {...props}
    />
  );
}

export function Field({ label, children, hint }: { label: string; children: ReactNode; hint?: string }) {
  // The hint stays outside the <label>, so the field's accessible name is the label alone.
  return (
    <div className="space-y-1 text-sm">
      <label className="block space-y-1">
        <span className="font-medium text-zinc-700 dark:text-zinc-300">{label}</span>
        {children}
      </label>
      {hint ? <p className="text-xs text-zinc-600 dark:text-zinc-400">{hint}</p> : null}
    </div>
  );
}

export function Card({
  children,
  className = "",
  label,
}: {
  children: ReactNode;
  className?: string;
  label?: string;
}) {
  return (
    <section
      aria-label={label}
      className={`rounded-2xl border border-zinc-200 bg-white/80 p-4 shadow-sm dark:border-zinc-800 dark:bg-zinc-900/80 ${className}`}
    >
      {children}
    </section>
  );
}

const CHIP =
  "inline-block rounded-full bg-violet-100 px-2 py-0.5 text-xs font-medium text-violet-800 dark:bg-violet-900/50 dark:text-violet-200";

/** A genre's chip; with `slug`, a link to the genre's page (`/genre/{slug}`). */
export function GenreChip({ children, slug }: { children: ReactNode; slug?: string }) {
  if (slug === undefined) return <span className={CHIP}>{children}</span>;
  return (
    <Link to={genrePath(slug)} className={`${CHIP} hover:underline`}>
      {children}
    </Link>
  );
}

/** The "demo" badge of a seeded demo room (rooms list, recommendations, the room page). */
export function DemoBadge() {
  const { t } = useI18n();
  return (
    <span
      className="shrink-0 rounded-full border border-amber-600 px-1.5 text-[11px] font-medium uppercase text-amber-800 dark:border-amber-400 dark:text-amber-300"
      title={t("room.demoHint")}
    >
      {t("room.demo")}
      <span className="sr-only">: {t("room.demoHint")}</span>
    </span>
  );
}

export function ErrorText({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <p role="alert" className="text-sm text-rose-700 dark:text-rose-300">
      {children}
    </p>
  );
}

/** A failed call, said in the user's language (never the server's own text). */
export function ErrorNotice({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (error === null || error === undefined) return null;
  return <ErrorText>{errorText(error, t)}</ErrorText>;
}

/** A grey block where content will be, so the page does not jump when it arrives. */
export function Skeleton({ className = "" }: { className?: string }) {
  return <div aria-hidden="true" className={`animate-pulse rounded-md bg-zinc-200 dark:bg-zinc-800 ${className}`} />;
}

export function Spinner({ label }: { label: string }) {
  return (
    <p role="status" className="flex items-center gap-2 text-sm text-zinc-600 dark:text-zinc-400">
      <span
        aria-hidden="true"
        className="inline-block size-4 animate-spin rounded-full border-2 border-violet-500 border-t-transparent"
      />
      {label}
    </p>
  );
}
