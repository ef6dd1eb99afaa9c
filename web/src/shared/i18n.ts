/**
 * English and Russian. The language comes from the browser (navigator.languages) until the
 * user picks one, which is remembered. Missing Russian strings fall back to English.
 */
import { createContext, useContext } from "react";

import { en } from "./strings-en.ts";
import { ru } from "./strings-ru.ts";

export type Language = "en" | "ru";
export type StringKey = keyof typeof en;
const DICTIONARIES: Record<Language, Partial<Record<StringKey, string>>> = { en, ru };
export const LANGUAGE_STORAGE_KEY = "tunewave.language";

export function detectLanguage(languages: readonly string[] = navigator.languages ?? []): Language {
  for (const tag of languages) {
    const base = tag.toLowerCase().split("-")[0];
    if (base === "ru") return "ru";
    if (base === "en") return "en";
  }
  return "en";
}

export function initialLanguage(): Language {
  const stored = localStorage.getItem(LANGUAGE_STORAGE_KEY);
  return stored === "en" || stored === "ru" ? stored : detectLanguage();
}

/** `{name}` placeholders filled from `params`. */
export function translate(
  language: Language,
  key: StringKey,
  params: Record<string, string | number> = {},
): string {
  const template = DICTIONARIES[language][key] ?? en[key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

export type Translate = (key: StringKey, params?: Record<string, string | number>) => string;

export interface I18n {
  language: Language;
  setLanguage: (language: Language) => void;
  t: Translate;
}

export const I18nContext = createContext<I18n>({
  language: "en",
  setLanguage: () => {},
  t: (key, params) => translate("en", key, params),
});

export function useI18n(): I18n {
  return useContext(I18nContext);
}
