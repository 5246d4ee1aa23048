import { RideTraceError } from '@ridetrace/sdk';
import type { CarrierImportResult, ImportCarriersBody } from '@ridetrace/shared';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { apiError, fakeApi } from '../../../test/fake-api.js';
import { ADMIN, FLEET_MANAGER, session } from '../../../test/fixtures.js';
import { renderConsole } from '../../../test/render.js';

const path = '/operators';
const CSV = 'kind,plate,route,city\nbus,粤B00001,1,深圳\n';

function fleetApi(who = FLEET_MANAGER) {
  const api = fakeApi();
  api.refreshOfficialSession.mockResolvedValue(session(who));
  return api;
}

const result = (over: Partial<CarrierImportResult>): CarrierImportResult => ({
  rows: 1,
  from: 0,
  count: 1,
  created: 0,
  updated: 0,
  unchanged: 0,
  written: true,
  ...over,
});

/** Opens the import dialog and chooses `file` in it. */
async function openAndChoose(user: ReturnType<typeof renderConsole>['user'], file: File) {
  await screen.findByRole('heading', { name: 'Carriers' });
  await user.click(screen.getAllByRole('button', { name: /Import CSV/ })[0]!);
  const dialog = await screen.findByRole('dialog');
  const input = dialog.querySelector<HTMLInputElement>('input[type=file]')!;
  await user.upload(input, file);
  // The file is read asynchronously: "Check file" does nothing until it has been.
  if (file.size <= 4_000_000) await within(dialog).findByText(`File: ${file.name}`);
  return dialog;
}

const csvFile = (text = CSV, name = 'fleet.csv') => new File([text], name, { type: 'text/csv' });

describe('carriers CSV import', () => {
  it('shows every problem of a bad file in a table and writes nothing', async () => {
    const api = fleetApi();
    api.importCarriers.mockRejectedValue(
      new RideTraceError(
        400,
        'csv_rows_invalid',
        '250 of 300 rows are not valid; nothing was imported.',
        undefined,
        {
          items: Array.from({ length: 200 }, (_, i) => ({
            line: i + 2,
            field: 'kind',
            message: `'plane' is not one of bus, taxi, metro, ferry (${i})`,
          })),
          total: 250,
        },
      ),
    );
    const { user } = renderConsole(api, { path });
    const dialog = await openAndChoose(user, csvFile());
    expect(await within(dialog).findByText('File: fleet.csv')).toBeTruthy();
    await user.click(within(dialog).getByRole('button', { name: 'Check file' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert.textContent).toContain('250 of 300 rows are not valid; nothing was imported.');
    expect(alert.textContent).toContain('250 problems, the first 200 shown');
    const table = within(dialog).getByRole('table');
    expect(within(table).getByRole('columnheader', { name: 'Line' })).toBeTruthy();
    expect(within(table).getByRole('columnheader', { name: 'Field' })).toBeTruthy();
    const first = within(table)
      .getByText(/'plane' is not one of bus, taxi, metro, ferry \(0\)$/)
      .closest('tr')!;
    expect(within(first).getByText('2')).toBeTruthy();
    expect(within(first).getByText('kind')).toBeTruthy();
    // Only the dry run went out; there is nothing to import.
    expect(api.importCarriers).toHaveBeenCalledTimes(1);
    expect(api.importCarriers).toHaveBeenCalledWith({ csv: CSV, dryRun: true });
    expect(within(dialog).queryByRole('button', { name: /^Import \d+ rows$/ })).toBeNull();
  });

  it("shows why an unreadable file or bad header is refused, in the API's words", async () => {
    const api = fleetApi();
    api.importCarriers.mockRejectedValue(apiError(400, 'csv_invalid', "unknown column 'colour'"));
    const { user } = renderConsole(api, { path });
    const dialog = await openAndChoose(user, csvFile('kind,plate,colour\n'));
    await user.click(await within(dialog).findByRole('button', { name: 'Check file' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert.textContent).toContain('This file cannot be imported');
    expect(alert.textContent).toContain("unknown column 'colour'");
  });

  it('refuses a file over 4 MB before sending it', async () => {
    const api = fleetApi();
    const { user } = renderConsole(api, { path });
    const big = csvFile();
    Object.defineProperty(big, 'size', { value: 4_000_001 });
    const dialog = await openAndChoose(user, big);
    expect((await within(dialog).findByRole('alert')).textContent).toContain('fleet.csv is larger than 4 MB');
    expect((within(dialog).getByRole('button', { name: 'Check file' }) as HTMLButtonElement).disabled).toBe(
      true,
    );
    expect(api.importCarriers).not.toHaveBeenCalled();
  });

  it('checks a clean file, then writes it in slices with progress and shows what changed', async () => {
    const api = fleetApi();
    const slices: ImportCarriersBody[] = [];
    let release: () => void = () => undefined;
    api.importCarriers.mockImplementation(async (body) => {
      if (body.dryRun)
        return result({
          rows: 4500,
          count: 4500,
          created: 4000,
          updated: 300,
          unchanged: 200,
          written: false,
        });
      slices.push(body);
      // The second slice waits: the test reads the progress in between.
      if (body.from === 2000) await new Promise<void>((r) => (release = r));
      const count = body.count!;
      return result({
        rows: 4500,
        from: body.from!,
        count,
        created: count - 100,
        updated: 60,
        unchanged: 40,
      });
    });
    const { user } = renderConsole(api, { path });
    const dialog = await openAndChoose(user, csvFile());
    await user.click(await within(dialog).findByRole('button', { name: 'Check file' }));
    expect(await within(dialog).findByText('Checked: 4500 rows, no problems.')).toBeTruthy();
    expect(slices).toEqual([]);
    await user.click(within(dialog).getByRole('button', { name: 'Import 4500 rows' }));
    expect(await within(dialog).findByText('2000 of 4500 rows written')).toBeTruthy();
    const bar = within(dialog).getByRole('progressbar');
    expect(bar.getAttribute('aria-valuenow')).toBe('44');
    release();
    expect(await within(dialog).findByText('Imported: 4500 rows')).toBeTruthy();
    expect(slices.map((s) => [s.from, s.count])).toEqual([
      [0, 2000],
      [2000, 2000],
      [4000, 500],
    ]);
    expect(slices.every((s) => s.csv === CSV && !s.dryRun)).toBe(true);
    const summary = within(dialog).getByText('Result').closest('.ant-descriptions')! as HTMLElement;
    expect(within(summary).getByText('4200')).toBeTruthy(); // created: 1900 + 1900 + 400
    expect(within(summary).getByText('180')).toBeTruthy(); // updated
    expect(within(summary).getByText('120')).toBeTruthy(); // unchanged
    // The list is read again with the new carriers.
    await waitFor(() => expect(api.listCarriers).toHaveBeenCalledTimes(2));
  });

  it('says that running it again is safe when a slice fails, and continues from there', async () => {
    const api = fleetApi(ADMIN);
    let failOnce = true;
    api.importCarriers.mockImplementation(async (body) => {
      if (body.dryRun) return result({ rows: 3000, count: 3000, created: 3000, written: false });
      if (body.from === 2000 && failOnce) {
        failOnce = false;
        throw apiError(503, 'service_unavailable', 'The database is unavailable; retry.');
      }
      return result({ rows: 3000, from: body.from!, count: body.count!, created: body.count! });
    });
    const { user } = renderConsole(api, { path });
    const dialog = await openAndChoose(user, csvFile());
    await user.click(await within(dialog).findByRole('button', { name: 'Check file' }));
    await user.click(await within(dialog).findByRole('button', { name: 'Import 3000 rows' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert.textContent).toContain('The database is unavailable; retry.');
    expect(alert.textContent).toContain('Importing the same file again is safe');
    expect(within(dialog).getByText('2000 of 3000 rows written')).toBeTruthy();
    await user.click(within(dialog).getByRole('button', { name: 'Continue' }));
    expect(await within(dialog).findByText('Imported: 3000 rows')).toBeTruthy();
    const writes = api.importCarriers.mock.calls.map(([b]) => b).filter((b) => !b.dryRun);
    expect(writes.map((b) => [b.from, b.count])).toEqual([
      [0, 2000],
      [2000, 1000],
      [2000, 1000],
    ]);
  });

  it("lets administrators name the operator of the file's rows", async () => {
    const api = fleetApi(ADMIN);
    api.importCarriers.mockResolvedValue(result({ written: false }));
    const { user } = renderConsole(api, { path });
    const dialog = await openAndChoose(user, csvFile());
    const select = within(dialog).getByRole('combobox', { name: 'Operator' });
    fireEvent.mouseDown(select);
    fireEvent.click(await screen.findByTitle('深圳巴士集团 (metro-bus)'));
    await user.click(within(dialog).getByRole('button', { name: 'Check file' }));
    await waitFor(() =>
      expect(api.importCarriers).toHaveBeenCalledWith({ csv: CSV, operatorId: 'metro-bus', dryRun: true }),
    );
  });
});
