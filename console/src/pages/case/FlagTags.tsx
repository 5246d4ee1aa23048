import type { RideFlags } from '@ridetrace/shared';
import { Space, Tag } from 'antd';
import { useT } from '../../i18n/index.js';

/** A tag per warning that applies: carrier switch, late offline scan, registered by staff. */
export function FlagTags({ flags }: { flags: RideFlags }) {
  const t = useT();
  const tags = [
    flags.carrierSwitch && (
      <Tag key="s" color="volcano">
        {t('flag.carrierSwitch')}
      </Tag>
    ),
    flags.lateOffline && (
      <Tag key="l" color="orange">
        {t('flag.lateOffline')}
      </Tag>
    ),
    flags.manual && (
      <Tag key="m" color="purple">
        {t('flag.manual')}
      </Tag>
    ),
  ].filter(Boolean);
  return tags.length ? (
    <Space size={[0, 4]} wrap>
      {tags}
    </Space>
  ) : null;
}

/** Every warning of any of these rides. */
export function anyFlags(list: RideFlags[]): RideFlags {
  return {
    carrierSwitch: list.some((f) => f.carrierSwitch),
    lateOffline: list.some((f) => f.lateOffline),
    manual: list.some((f) => f.manual),
  };
}
