import { type ReactNode, useCallback, useEffect, useMemo, useState } from "react";

import { I18nContext, initialLanguage, type Language, LANGUAGE_STORAGE_KEY, makeI18n } from "./i18n.ts";

export function I18nProvider({ children }: { children: ReactNode }) {
  const [language, setLanguageState] = useState<Language>(initialLanguage);
  const setLanguage = useCallback((next: Language) => {
    localStorage.setItem(LANGUAGE_STORAGE_KEY, next);
    setLanguageState(next);
  }, []);
  const value = useMemo(() => makeI18n(language, setLanguage), [language, setLanguage]);
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}
