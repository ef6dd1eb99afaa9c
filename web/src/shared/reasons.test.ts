import { describe, expect, it } from "vitest";

import { makeI18n } from "./i18n.ts";
import { readReasonParts, reasonText } from "./reasons.ts";

const names: Record<string, string> = { "indie-rock": "Indie Rock", techno: "Techno", jazz: "Jazz" };
const genreName = (slug: string) => names[slug] ?? slug;

describe("recommendation reasons", () => {
  const parts = readReasonParts([
    { code: "plays_like_you", params: { genres: ["indie-rock", "techno"], artists: ["Slowdive"] } },
    { code: "now_playing", params: { title: "Alison", artists: ["Slowdive"] } },
    { code: "here_now", params: { count: 3 } },
  ]);
  const english = "plays indie-rock, techno and Slowdive, like you · now playing Alison by Slowdive · 3 here now";

  it("are said in English from their parts", () => {
    expect(reasonText(parts, english, makeI18n("en"), genreName)).toBe(
      "plays Indie Rock, Techno, and Slowdive, like you · now playing Alison by Slowdive · 3 here now",
    );
  });

  it("are translated to Russian part by part, with plurals", () => {
    const text = reasonText(parts, english, makeI18n("ru"), genreName);
    expect(text).toBe(
      "здесь играют Indie Rock, Techno и Slowdive, как и у вас · сейчас играет «Alison» (Slowdive) · сейчас здесь 3 человека",
    );
    expect(reasonText(readReasonParts([{ code: "here_now", params: { count: 5 } }]), "5 here now", makeI18n("ru"))).toBe(
      "сейчас здесь 5 человек",
    );
    expect(
      reasonText(readReasonParts([{ code: "shares_genres", params: { genres: ["jazz"] } }]), "x", makeI18n("ru"), genreName),
    ).toBe("у вас общие жанры: Jazz");
  });

  it("say how many listeners with the same taste play a genre to explore, in both languages", () => {
    const three = readReasonParts([{ code: "taste_neighbours_play", params: { genre: "jazz", listeners: 3 } }]);
    const one = readReasonParts([{ code: "taste_neighbours_play", params: { genre: "techno", listeners: 1 } }]);
    const english = "3 listeners with your taste play jazz";
    expect(reasonText(three, english, makeI18n("en"), genreName)).toBe("3 listeners with your taste play Jazz");
    expect(reasonText(one, "x", makeI18n("en"), genreName)).toBe("1 listener with your taste plays Techno");
    expect(reasonText(three, english, makeI18n("ru"), genreName)).toBe("3 слушателя с похожим на ваш вкусом слушают Jazz");
    expect(reasonText(one, "x", makeI18n("ru"), genreName)).toBe("1 слушатель с похожим на ваш вкусом слушает Techno");
    const five = readReasonParts([{ code: "taste_neighbours_play", params: { genre: "jazz", listeners: 5 } }]);
    expect(reasonText(five, "x", makeI18n("ru"), genreName)).toBe("5 слушателей с похожим на ваш вкусом слушают Jazz");
  });

  it("fall back to the English reason for a code this app does not know, or no parts", () => {
    const unknown = readReasonParts([
      { code: "plays_genres", params: { genres: ["jazz"] } },
      { code: "brand_new_reason", params: {} },
    ]);
    expect(reasonText(unknown, "plays jazz · something new", makeI18n("ru"), genreName)).toBe("plays jazz · something new");
    expect(reasonText([], "popular on TuneWave right now", makeI18n("ru"))).toBe("popular on TuneWave right now");
    expect(reasonText(readReasonParts("junk"), null, makeI18n("ru"))).toBeNull();
  });
});
