import { QueryClient } from '@tanstack/react-query';
import { fireEvent, render, type RenderResult } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router-dom';
import { AppProviders, ConsoleRoutes } from '../src/App.js';
import type { Locale } from '../src/i18n/index.js';
import type { FakeApi } from './fake-api.js';

/** The console at `path` with the fake API: the session resumes through `api.refreshOfficialSession`. */
export function renderConsole(
  api: FakeApi,
  { path = '/', locale = 'en' }: { path?: string; locale?: Locale | null } = {},
): RenderResult & { user: ReturnType<typeof userEvent.setup> } {
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false, gcTime: Infinity }, mutations: { retry: false } },
  });
  // No pause between keystrokes: AntD's inputs are slow enough in jsdom.
  const user = userEvent.setup({ delay: null });
  const result = render(
    <AppProviders api={api} queryClient={queryClient} {...(locale ? { locale } : {})}>
      <MemoryRouter initialEntries={[path]}>
        <ConsoleRoutes />
      </MemoryRouter>
    </AppProviders>,
  );
  return { ...result, user };
}

/** Sets a text field's value at once (typing each key through AntD is slow in jsdom). */
export function fill(field: HTMLElement, value: string): void {
  fireEvent.change(field, { target: { value } });
}
