import { Input, Text, View } from '@tarojs/components';
import type { InputProps } from '@tarojs/components';
import type { ReactNode } from 'react';

interface Props extends Pick<InputProps, 'type' | 'password' | 'maxlength' | 'placeholder'> {
  id: string;
  /** Shown above the input and read out as its name. */
  label: string;
  value: string;
  onInput: (value: string) => void;
  /** Why the value is refused, under the input. */
  error?: string;
  /** Between the input and the error (e.g. a platform button that fills the field). */
  children?: ReactNode;
}

/** A labelled text input with room for an error message. */
export function FormField({ id, label, value, onInput, error, children, ...input }: Props) {
  return (
    <View className="field">
      <Text className="field__label">{label}</Text>
      <Input
        className="input"
        id={id}
        {...input}
        value={value}
        aria-label={label}
        onInput={(e) => onInput(e.detail.value)}
      />
      {children}
      {error && <Text className="field__error">{error}</Text>}
    </View>
  );
}
