import { Text, View } from '@tarojs/components';
import type { PhoneMatch, VerifiedPhone } from '../services/phone';
import { useT } from '../services/messages';

interface StateProps {
  /** Masked. */
  phone: string;
  verified: boolean;
  /** How it was verified, shown after the tag. */
  source?: VerifiedPhone['source'] | null;
  id?: string;
  /** On its own line (settings) rather than as the value of a row. */
  standalone?: boolean;
}

/** A masked phone with its state as a word (已验证 / 未验证), never by colour alone. */
export function PhoneState({ phone, verified, source, id, standalone }: StateProps) {
  const t = useT();
  return (
    <View className={`phone-state ${standalone ? 'phone-state--standalone' : 'row__value'}`} id={id}>
      <Text className="phone-state__number">{phone}</Text>
      <Text className={`tag ${verified ? 'tag--ok' : 'tag--warn'}`}>
        {verified ? t('phone.verified') : t('phone.unverified')}
      </Text>
      {verified && source && <Text className="phone-state__source">{t(`phone.source.${source}`)}</Text>}
    </View>
  );
}

/** What the typed phone will be once submitted: verified, checked by the server, or the passenger's claim only. */
export function PhoneMatchNote({ match, verified }: { match: PhoneMatch; verified: VerifiedPhone | null }) {
  const t = useT();
  const tone = match === 'differs' || match === 'unverified' ? 'warn' : 'info';
  return (
    <View className={`notice notice--${tone} phone-note phone-note--${match}`} role="status">
      <Text className="notice__text">{t(`phone.match.${match}`, { phone: verified?.masked ?? '' })}</Text>
    </View>
  );
}
