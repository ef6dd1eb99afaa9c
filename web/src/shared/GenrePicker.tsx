import { useId, useState } from "react";

import { useI18n } from "./i18n.ts";
import { Button, TextInput } from "./ui.tsx";

export interface GenreOption {
  slug: string;
  name: string;
}

/** Pick genres from the vocabulary: type to filter, Enter or the button adds, × removes. */
export function GenrePicker({
  options,
  value,
  onChange,
  label,
  max = 10,
}: {
  options: GenreOption[];
  value: string[];
  onChange: (next: string[]) => void;
  label: string;
  max?: number;
}) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const listId = useId();
  const byName = new Map(options.map((option) => [option.name.toLowerCase(), option.slug]));
  const bySlug = new Map(options.map((option) => [option.slug, option.name]));
  const add = () => {
    const typed = text.trim().toLowerCase();
    const slug = bySlug.has(typed) ? typed : byName.get(typed);
    if (slug && !value.includes(slug) && value.length < max) onChange([...value, slug]);
    setText("");
  };
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium text-zinc-700 dark:text-zinc-300">{label}</legend>
      <ul className="flex flex-wrap gap-1" aria-label={label}>
        {value.map((slug) => (
          <li
            key={slug}
            className="flex items-center gap-1 rounded-full bg-violet-100 py-0.5 pl-2 pr-1 text-xs text-violet-900 dark:bg-violet-900/50 dark:text-violet-100"
          >
            {bySlug.get(slug) ?? slug}
            <button
              type="button"
              aria-label={t("genres.remove", { genre: bySlug.get(slug) ?? slug })}
              className="rounded-full px-1 hover:bg-violet-200 dark:hover:bg-violet-800"
              onClick={() => onChange(value.filter((item) => item !== slug))}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <div className="flex gap-2">
        <TextInput
          list={listId}
          aria-label={t("genres.add")}
          placeholder={t("genres.placeholder")}
          value={text}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter") {
              event.preventDefault();
              add();
            }
          }}
        />
        <Button tone="secondary" onClick={add} disabled={!text.trim() || value.length >= max}>
          {t("genres.add")}
        </Button>
      </div>
      <datalist id={listId}>
        {options.map((option) => (
          <option key={option.slug} value={option.name} />
        ))}
      </datalist>
    </fieldset>
  );
}
