import { describe, expect, it } from "vitest";

import { errorText } from "./errors.ts";
import { ApiError } from "./fetchJson.ts";
import { formatDateTime, formatNumber, formatTime } from "./format.ts";
import { type Language, makeI18n, translate, translatePlural } from "./i18n.ts";
import { en } from "./strings-en.ts";
import { ru } from "./strings-ru.ts";

const CATEGORIES = ["zero", "one", "two", "few", "many", "other"];

/** Keys without their plural category: `profile.plays.one` → `profile.plays`. */
function split(keys: string[]) {
  const plain = new Set<string>();
  const plural = new Map<string, Set<string>>();
  for (const key of keys) {
    const last = key.split(".").at(-1) ?? "";
    const base = key.slice(0, -(last.length + 1));
    if (CATEGORIES.includes(last) && keys.includes(`${base}.other`)) {
      plural.set(base, (plural.get(base) ?? new Set()).add(last));
    } else {
      plain.add(key);
    }
  }
  return { plain, plural };
}

describe("strings", () => {
  const english = split(Object.keys(en));
  const russian = split(Object.keys(ru));

  it("every English key has a Russian counterpart and vice versa", () => {
    expect([...english.plain].filter((key) => !russian.plain.has(key))).toEqual([]);
    expect([...russian.plain].filter((key) => !english.plain.has(key))).toEqual([]);
    expect([...russian.plural.keys()].sort()).toEqual([...english.plural.keys()].sort());
  });

  it("every plural message has every form its language needs", () => {
    for (const [language, table] of [["en", english.plural], ["ru", russian.plural]] as const) {
      const needed = new Intl.PluralRules(language).resolvedOptions().pluralCategories;
      for (const [base, forms] of table) {
        for (const category of needed) expect(forms.has(category), `${language} ${base}.${category}`).toBe(true);
      }
    }
  });

  it("placeholders match between the languages", () => {
    const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
    for (const [key, text] of Object.entries(en)) {
      const base = key.replace(/\.(one|other)$/, "");
      const russianText = ru[key] ?? ru[`${base}.many`] ?? "";
      expect(names(russianText), key).toEqual(names(text));
    }
  });

  it("no Russian string is left in English", () => {
    // Brand names and strings made only of placeholders are the same in both.
    const words = (text: string) => text.replace(/\{\w+\}/g, "").replace(/Spotify|Premium|Google|TuneWave/g, "");
    const same = Object.keys(ru).filter(
      (key) => ru[key] === (en as Record<string, string>)[key] && /\p{L}/u.test(words(ru[key] ?? "")),
    );
    expect(same).toEqual([]);
  });
});

describe("plurals and numbers", () => {
  it("English one/other", () => {
    expect(translatePlural("en", "profile.plays", 1)).toBe("1 play");
    expect(translatePlural("en", "profile.plays", 2)).toBe("2 plays");
    expect(translatePlural("en", "profile.plays", 1234)).toBe("1,234 plays");
  });

  it("Russian one/few/many", () => {
    expect(translatePlural("ru", "profile.plays", 1)).toBe("1 прослушивание");
    expect(translatePlural("ru", "profile.plays", 3)).toBe("3 прослушивания");
    expect(translatePlural("ru", "profile.plays", 5)).toBe("5 прослушиваний");
    expect(translatePlural("ru", "profile.plays", 21)).toBe("21 прослушивание");
    expect(translatePlural("ru", "room.memberCount", 12)).toBe("12 участников");
    // Grouping through Intl: a (narrow) no-break space in Russian.
    expect(translatePlural("ru", "profile.plays", 1234).replace(/\s/g, " ")).toBe("1 234 прослушивания");
  });

  it("numbers in placeholders are formatted for the language", () => {
    expect(translate("en", "error.rate_limited_in", { seconds: 1500 })).toContain("1,500 s");
    expect(formatNumber("ru", 1500).replace(/\s/g, " ")).toBe("1 500");
  });
});

describe("dates and times", () => {
  const iso = "2026-12-01T03:39:25Z";
  it("follow the page's language, not the browser's", () => {
    const english = formatDateTime("en", iso);
    const russian = formatDateTime("ru", iso);
    expect(russian).not.toBe(english);
    expect(russian).not.toMatch(/AM|PM|\d+\/\d+\/\d+/);
    expect(russian).toMatch(/2026/);
    expect(english).toMatch(/Dec/);
    expect(formatTime("ru", iso)).toMatch(/^\d\d:\d\d$/);
    expect(formatTime("en", iso)).toMatch(/AM|PM/);
  });

  it("an unreadable date is empty, not 'Invalid Date'", () => {
    expect(formatDateTime("en", "nope")).toBe("");
  });
});

describe("error sentences", () => {
  const t = (language: Language) => makeI18n(language).t;
  const error = (status: number, body: Record<string, unknown>, headers?: HeadersInit) =>
    new ApiError(status, body.detail, `/x: ${status} ${String(body.detail)}`, body, new Headers(headers));

  it("never show the server's text", () => {
    const samples = [
      error(422, {
        detail: [{ loc: ["path", "room_id"], msg: "Input should be a valid UUID, invalid character" }],
        code: "invalid_input",
        field: "room_id",
      }),
      error(404, { detail: "room not found", code: "room_not_found" }),
      error(429, { detail: "too many messages; try again in 7 s", code: "rate_limited", retry_after_s: 7 }),
      error(500, { detail: "Internal Server Error" }),
      error(418, { detail: "teapot", code: "something_new" }),
      new TypeError("Failed to fetch"),
      new Error("boom"),
    ];
    for (const language of ["en", "ru"] as const) {
      for (const sample of samples) {
        const text = errorText(sample, t(language));
        expect(text).not.toMatch(/Input should|room not found|too many messages|\/x|Internal Server|teapot|boom|Failed/);
        expect(text.length).toBeGreaterThan(5);
      }
    }
  });

  it("say which field and how long to wait, in the language", () => {
    const invalid = error(422, { detail: [], code: "invalid_input", field: "room_id" });
    expect(errorText(invalid, t("en"))).toBe("Check the room address: it is not valid.");
    expect(errorText(invalid, t("ru"))).toBe("Проверьте поле «адрес комнаты»: значение не подходит.");
    const limited = error(429, { detail: "x", code: "rate_limited", retry_after_s: 7 });
    expect(errorText(limited, t("en"))).toBe("That was too fast. Try again in 7 s.");
    expect(errorText(limited, t("ru"))).toBe("Слишком быстро. Попробуйте через 7 с.");
    expect(errorText(error(404, { detail: "room not found", code: "room_not_found" }), t("ru"))).toBe(
      "Такой комнаты нет (возможно, её удалили).",
    );
    // No code (an older server): the status decides; Retry-After from the header.
    expect(errorText(error(429, { detail: "x" }, { "Retry-After": "3" }), t("en"))).toBe(
      "That was too fast. Try again in 3 s.",
    );
    expect(errorText(error(403, { detail: "wrong password", code: "wrong_password" }), t("en"))).toBe("Wrong password.");
  });
});
