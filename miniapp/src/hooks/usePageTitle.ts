import Taro from '@tarojs/taro';
import { useEffect } from 'react';
import { useLang } from '../services/i18n-core';
import { translate, type MessageKey } from '../services/messages';

/** Keeps the navigation bar title in the chosen language. */
export function usePageTitle(key: MessageKey): void {
  const lang = useLang();
  useEffect(() => {
    void Taro.setNavigationBarTitle({ title: translate(lang, key) }).catch(() => undefined);
  }, [lang, key]);
}
