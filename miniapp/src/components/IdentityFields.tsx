import type { ReactNode } from 'react';
import type { IdentityErrors, IdentityInput } from '../services/identity';
import { useT } from '../services/messages';
import { FormField } from './FormField';

interface Props {
  /** Element ids: `<idPrefix>-name`, `<idPrefix>-phone`, `<idPrefix>-id`. */
  idPrefix: string;
  value: IdentityInput;
  onChange: (field: keyof IdentityInput, value: string) => void;
  errors: IdentityErrors;
  /** Example values in the empty inputs (the passenger's own form; staff type for someone else). */
  placeholders?: boolean;
  /** Under the phone input, before its error. */
  phoneExtra?: ReactNode;
}

/** Name, phone and the optional ID number of a rider, with their error messages. */
export function IdentityFields({ idPrefix, value, onChange, errors, placeholders, phoneExtra }: Props) {
  const t = useT();
  const set = (field: keyof IdentityInput) => (v: string) => onChange(field, v);
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
      <FormField
        id={`${idPrefix}-id`}
        label={t('confirm.idNumber')}
        type="idcard"
        value={value.idNumber}
        maxlength={18}
        {...(placeholders ? { placeholder: t('confirm.idPlaceholder') } : {})}
        error={errors.idNumber && t(errors.idNumber)}
        onInput={set('idNumber')}
      />
    </>
  );
}
