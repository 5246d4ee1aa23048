import { Button, Text, View } from '@tarojs/components';
import { useState, type ReactNode } from 'react';
import {
  ID_NUMBER_MAXLENGTH,
  ID_TYPES,
  idNumberTexts,
  type IdentityErrors,
  type IdentityInput,
} from '../services/identity';
import { useT } from '../services/messages';
import { FormField } from './FormField';

interface Props {
  /** Element ids: `<idPrefix>-name`, `<idPrefix>-phone`, `<idPrefix>-id-type`, `<idPrefix>-id`. */
  idPrefix: string;
  value: IdentityInput;
  onChange: (field: keyof IdentityInput, value: string) => void;
  errors: IdentityErrors;
  /** Example values in the empty inputs (the passenger's own form; staff type for someone else). */
  placeholders?: boolean;
  /** Under the phone input, before its error. */
  phoneExtra?: ReactNode;
}

/**
 * Name, phone and the optional ID number of a rider with its document type, with their error messages. The type is
 * one button showing the chosen document (a resident ID card until changed) that opens the list of the others:
 * plain buttons work alike in weapp and h5, and the form stays short for the many who keep the default.
 */
export function IdentityFields({ idPrefix, value, onChange, errors, placeholders, phoneExtra }: Props) {
  const t = useT();
  const [choosing, setChoosing] = useState(false);
  const set = (field: keyof IdentityInput) => (v: string) => onChange(field, v);
  const idType = value.idType ?? 'cn_id';
  const texts = idNumberTexts(idType);
  return (
    <>
      <FormField
        id={`${idPrefix}-name`}
        label={t('confirm.name')}
        value={value.name}
        maxlength={40}
        {...(placeholders ? { placeholder: t('confirm.namePlaceholder') } : {})}
        error={errors.name && t(errors.name)}
        onInput={set('name')}
      />
      <FormField
        id={`${idPrefix}-phone`}
        label={t('confirm.phone')}
        type="number"
        value={value.phone}
        maxlength={11}
        {...(placeholders ? { placeholder: t('confirm.phonePlaceholder') } : {})}
        error={errors.phone && t(errors.phone)}
        onInput={set('phone')}
      >
        {phoneExtra}
      </FormField>
      <View className="field" role="group" aria-label={t('confirm.idType')}>
        <Text className="field__label">{t('confirm.idType')}</Text>
        <Button
          className="btn btn--secondary"
          id={`${idPrefix}-id-type`}
          aria-expanded={choosing}
          aria-label={`${t('confirm.idTypeChange')}: ${t(`idType.${idType}`)}`}
          onClick={() => setChoosing(!choosing)}
        >
          {t(`idType.${idType}`)}
        </Button>
        {choosing &&
          ID_TYPES.filter((type) => type !== idType).map((type) => (
            <Button
              key={type}
              className="btn btn--secondary"
              id={`${idPrefix}-id-type-${type}`}
              aria-label={t(`idType.${type}`)}
              onClick={() => {
                onChange('idType', type);
                setChoosing(false);
              }}
            >
              {t(`idType.${type}`)}
            </Button>
          ))}
      </View>
      <FormField
        id={`${idPrefix}-id`}
        label={t(texts.label)}
        type={idType === 'cn_id' ? 'idcard' : 'text'}
        value={value.idNumber}
        maxlength={ID_NUMBER_MAXLENGTH[idType]}
        {...(placeholders ? { placeholder: t(texts.placeholder) } : {})}
        error={errors.idNumber && t(errors.idNumber)}
        onInput={set('idNumber')}
      />
    </>
  );
}
