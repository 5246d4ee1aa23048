/**
 * Console page tests: jsdom lacks a few browser APIs AntD and ECharts reach for; they get small stand-ins here.
 * The chart itself is replaced (ECharts needs a canvas): tests read the option it was given.
 */
import { cleanup, configure } from '@testing-library/react';
import { afterEach, vi } from 'vitest';

// Pages are lazy chunks: the first import of one (and of AntD's parts) takes a while on a busy machine.
configure({ asyncUtilTimeout: 20_000 });

Object.defineProperty(window, 'matchMedia', {
  writable: true,
  value: (query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: () => undefined,
    removeListener: () => undefined,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
    dispatchEvent: () => false,
  }),
});

class ResizeObserverStub {
  observe() {}
  unobserve() {}
  disconnect() {}
}
globalThis.ResizeObserver ??= ResizeObserverStub as unknown as typeof ResizeObserver;

// jsdom computes styles by walking every style sheet, and AntD injects hundreds and asks on every render: that was
// most of these tests' time. The pages' logic never depends on a computed style, so every element gets an empty one.
const cheapStyle = new Proxy({} as CSSStyleDeclaration, {
  get: (_t, k) => (k === 'getPropertyValue' ? () => '' : typeof k === 'string' ? '' : undefined),
});
window.getComputedStyle = () => cheapStyle;

vi.mock('../src/components/EChart.js', async () => {
  const { createElement } = await import('react');
  return {
    EChart: ({ option, label }: { option: unknown; label: string }) =>
      createElement('div', { role: 'img', 'aria-label': label, 'data-option': JSON.stringify(option) }),
  };
});

afterEach(() => {
  cleanup();
  localStorage.clear();
});
