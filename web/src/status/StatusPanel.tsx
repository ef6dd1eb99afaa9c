import { useEffect, useState } from "react";

import { type ApiStatus, type SignInOption, loadApiStatus } from "./apiStatus.ts";

const SIGN_IN_LABELS: Record<SignInOption, string> = {
  devLogin: "Dev login",
  google: "Google",
  spotify: "Spotify",
};

function StatusDot({ tone }: { tone: "ok" | "bad" | "wait" | "off" }) {
  const colors = {
    ok: "bg-emerald-500",
    bad: "bg-rose-500",
    wait: "bg-amber-400 animate-pulse",
    off: "bg-zinc-300 dark:bg-zinc-600",
  };
  return <span aria-hidden="true" className={`inline-block size-2.5 rounded-full ${colors[tone]}`} />;
}

function ApiLine({ status }: { status: ApiStatus }) {
  if (status.state === "loading") {
    return (
      <p className="flex items-center gap-2">
        <StatusDot tone="wait" /> Checking the API…
      </p>
    );
  }
  if (status.state === "down") {
    return (
      <div>
        <p className="flex items-center gap-2 font-medium">
          <StatusDot tone="bad" /> API unreachable
        </p>
        <p className="mt-1 text-sm text-zinc-500 dark:text-zinc-400">{status.error}</p>
      </div>
    );
  }
  return (
    <p className="flex items-center gap-2 font-medium">
      <StatusDot tone="ok" /> API is up
    </p>
  );
}

function SignInList({ status }: { status: ApiStatus }) {
  if (status.state !== "up") {
    return null;
  }
  if (status.signIn === null) {
    return (
      <p className="text-sm text-zinc-500 dark:text-zinc-400">
        Sign-in options unavailable: {status.signInError}
      </p>
    );
  }
  const signIn = status.signIn;
  return (
    <ul className="grid gap-2 sm:grid-cols-3" aria-label="Sign-in options">
      {(Object.keys(SIGN_IN_LABELS) as SignInOption[]).map((option) => {
        const enabled = signIn[option];
        const state = enabled === null ? "not reported" : enabled ? "enabled" : "off";
        return (
          <li
            key={option}
            className="flex items-center justify-between gap-3 rounded-xl border border-zinc-200 px-3 py-2 dark:border-zinc-800"
          >
            <span className="flex items-center gap-2">
              <StatusDot tone={enabled ? "ok" : "off"} />
              {SIGN_IN_LABELS[option]}
            </span>
            <span
              className={
                enabled
                  ? "text-sm font-medium text-emerald-700 dark:text-emerald-400"
                  : "text-sm text-zinc-500 dark:text-zinc-400"
              }
            >
              {state}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

/** The API's health and the sign-in options it offers, read once when the page opens. */
export function StatusPanel() {
  const [status, setStatus] = useState<ApiStatus>({ state: "loading" });

  useEffect(() => {
    const controller = new AbortController();
    loadApiStatus(controller.signal).then((next) => {
      if (!controller.signal.aborted) {
        setStatus(next);
      }
    });
    return () => controller.abort();
  }, []);

  return (
    <section
      aria-label="Service status"
      className="space-y-4 rounded-2xl border border-zinc-200 bg-white/70 p-5 shadow-sm backdrop-blur dark:border-zinc-800 dark:bg-zinc-900/70"
    >
      <ApiLine status={status} />
      <SignInList status={status} />
    </section>
  );
}
