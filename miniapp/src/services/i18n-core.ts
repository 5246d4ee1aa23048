import { useSyncExternalStore } from 'react';
import Taro from '@tarojs/taro';

export type Lang = 'zh-CN' | 'en';
export const LANGS: readonly Lang[] = ['zh-CN', 'en'];

/** A text in both languages (the server sends consent and advice this way too). */
export type Bilingual = Record<Lang, string>;

let current: Lang | null = null;
const listeners = new Set<() => void>();

function stored(): Lang {
  try {
    const v: unknown = Taro.getStorageSync('rt.lang');
    return v === 'en' ? 'en' : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
}

/** Chinese unless the user chose English in settings. */
export function getLang(): Lang {
  current ??= stored();
  return current;
}

export function setLang(lang: Lang): void {
  current = lang;
  Taro.setStorageSync('rt.lang', lang);
  for (const l of listeners) l();
}

/** Forget the cached choice (tests, "delete my data"). */
export function resetLang(): void {
  current = null;
  for (const l of listeners) l();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useLang(): Lang {
  return useSyncExternalStore(subscribe, getLang, getLang);
}

/** Replaces `{name}` placeholders. */
export function fill(text: string, vars?: Record<string, string | number>): string {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}
