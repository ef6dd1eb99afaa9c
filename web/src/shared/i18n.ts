/**
 * English and Russian. The language comes from the browser (navigator.languages) until the
 * user picks one, which is remembered. Missing Russian strings fall back to English.
 *
 * Plurals: a plural message has one key per CLDR category, `base.one`, `base.other` in
 * English and `base.one`, `base.few`, `base.many`, `base.other` in Russian; `plural()` picks
 * the form with Intl.PluralRules. Numbers, dates and times go through Intl in the current
 * language (format.ts).
 */
import { createContext, useContext } from "react";

import { formatDateTime, formatNumber, formatTime } from "./format.ts";
import { en } from "./strings-en.ts";
import { ru } from "./strings-ru.ts";

export type Language = "en" | "ru";
export type StringKey = keyof typeof en;
/** `profile.plays` for the keys `profile.plays.one` / `profile.plays.other`. */
export type PluralKey = { [K in StringKey]: K extends `${infer Base}.other` ? Base : never }[StringKey];
export type Params = Record<string, string | number>;
const DICTIONARIES: Record<Language, Record<string, string | undefined>> = { en, ru };
export const LANGUAGE_STORAGE_KEY = "tunewave.language";

export function hasKey(key: string): key is StringKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}

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

function fill(language: Language, template: string, params: Params): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    if (!(name in params)) return whole;
    const value = params[name];
    return typeof value === "number" ? formatNumber(language, value) : String(value);
  });
}

/** `{name}` placeholders filled from `params` (numbers formatted for the language). */
export function translate(language: Language, key: StringKey, params: Params = {}): string {
  const template = DICTIONARIES[language][key] ?? en[key];
  return fill(language, template, params);
}

/** The plural form of `base` for `count` in `language` (`{count}` is filled in). */
export function translatePlural(language: Language, base: PluralKey, count: number, params: Params = {}): string {
  const category = new Intl.PluralRules(language).select(count);
  const dictionary = DICTIONARIES[language];
  const template =
    dictionary[`${base}.${category}`] ??
    dictionary[`${base}.other`] ??
    (en as Record<string, string>)[`${base}.${new Intl.PluralRules("en").select(count)}`] ??
    en[`${base}.other` as StringKey];
  return fill(language, template, { count, ...params });
}

export type Translate = (key: StringKey, params?: Params) => string;

export interface I18n {
  language: Language;
  setLanguage: (language: Language) => void;
  t: Translate;
  plural: (base: PluralKey, count: number, params?: Params) => string;
  number: (value: number) => string;
  time: (iso: string) => string;
  dateTime: (iso: string) => string;
}

export function makeI18n(language: Language, setLanguage: (language: Language) => void = () => {}): I18n {
  return {
    language,
    setLanguage,
    t: (key, params) => translate(language, key, params),
    plural: (base, count, params) => translatePlural(language, base, count, params),
    number: (value) => formatNumber(language, value),
    time: (iso) => formatTime(language, iso),
    dateTime: (iso) => formatDateTime(language, iso),
  };
}

export const I18nContext = createContext<I18n>(makeI18n("en"));

export function useI18n(): I18n {
  return useContext(I18nContext);
}
