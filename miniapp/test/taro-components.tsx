/**
 * Plain DOM stand-ins for @tarojs/components (aliased in vitest.config.ts): enough for page tests to render,
 * type and click. Taro events carry their value in `detail`, as here.
 */
import { createElement, type ReactNode } from 'react';

type Props = Record<string, unknown> & { children?: ReactNode };

function passThrough(props: Props): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    if (k === 'children' || k === 'hoverClass' || k === 'openType' || k.startsWith('onGet')) continue;
    out[k] = v;
  }
  return out;
}

export const View = (props: Props) => createElement('div', passThrough(props), props.children);
export const Text = (props: Props) => createElement('span', passThrough(props), props.children);
export const ScrollView = View;
export const Image = (props: Props) => createElement('img', passThrough(props));

/**
 * The `detail` a getPhoneNumber button hands its handler on the next tap: WeChat's `{ code }` when the passenger
 * allows, `{ errMsg: 'getPhoneNumber:fail user deny' }` (no code) when they decline. Reset before each test.
 */
export const phoneNumberEvent: { detail: object } = { detail: {} };

export const Button = (props: Props) => {
  const { onGetPhoneNumber, openType } = props as {
    onGetPhoneNumber?: (e: { detail: object }) => void;
    openType?: string;
  };
  return createElement(
    'button',
    {
      ...passThrough(props),
      type: 'button',
      'data-open-type': openType,
      disabled: Boolean(props.disabled),
      onClick: (e: unknown) => {
        (props.onClick as ((e: unknown) => void) | undefined)?.(e);
        if (openType === 'getPhoneNumber') onGetPhoneNumber?.({ detail: phoneNumberEvent.detail });
      },
    },
    props.children,
  );
};

function field(tag: 'input' | 'textarea') {
  return function Field(props: Props) {
    const { onInput, value, password, maxlength, type } = props as {
      onInput?: (e: { detail: { value: string } }) => void;
      value?: string;
      password?: boolean;
      maxlength?: number;
      type?: string;
    };
    const rest = passThrough(props);
    delete rest.onInput;
    delete rest.password;
    delete rest.maxlength;
    return createElement(tag, {
      ...rest,
      type: tag === 'input' ? (password ? 'password' : type === 'number' ? 'tel' : 'text') : undefined,
      maxLength: maxlength,
      value: value ?? '',
      onChange: (e: { target: { value: string } }) => onInput?.({ detail: { value: e.target.value } }),
    });
  };
}

export const Input = field('input');
export const Textarea = field('textarea');
