import { RideTraceError } from '@ridetrace/sdk';
import type { ErrorCode } from '@ridetrace/shared';
import { vi, type Mock } from 'vitest';
import type { ConsoleApi } from '../src/api.js';
import { aCase, exposurePage, notifications, operator, rides, session } from './fixtures.js';

export type FakeApi = { [K in keyof ConsoleApi]: Mock<ConsoleApi[K]> };

/** An API error as the SDK throws it: the shared code and the server's human message. */
export const apiError = (status: number, code: ErrorCode, message: string) =>
  new RideTraceError(status, code, message);

/** A promise that never settles: the page stays in its loading state. */
export const pending = <T>() => new Promise<T>(() => undefined);

/**
 * A fake of the SDK client the console uses, signed in as a supervisor with one open case and nothing else;
 * a test overrides what it is about (`api.listCases.mockResolvedValue(…)`).
 */
export function fakeApi(): FakeApi {
  return {
    signInOfficialSession: vi.fn<ConsoleApi['signInOfficialSession']>().mockResolvedValue(session()),
    refreshOfficialSession: vi.fn<ConsoleApi['refreshOfficialSession']>().mockResolvedValue(session()),
    signOutOfficial: vi.fn<ConsoleApi['signOutOfficial']>().mockResolvedValue(undefined),
    officialMe: vi.fn<ConsoleApi['officialMe']>().mockResolvedValue(session().official),
    listCases: vi.fn<ConsoleApi['listCases']>().mockResolvedValue({ items: [aCase()], nextCursor: null }),
    openCase: vi.fn<ConsoleApi['openCase']>().mockResolvedValue(aCase()),
    getCase: vi.fn<ConsoleApi['getCase']>().mockResolvedValue(aCase()),
    caseRides: vi
      .fn<ConsoleApi['caseRides']>()
      .mockResolvedValue({ caseId: aCase().id, jurisdiction: ['深圳'], items: rides() }),
    closeCase: vi.fn<ConsoleApi['closeCase']>().mockResolvedValue(aCase({ status: 'closed' })),
    exposures: vi.fn<ConsoleApi['exposures']>().mockResolvedValue(exposurePage([])),
    exposuresCsv: vi.fn<ConsoleApi['exposuresCsv']>().mockResolvedValue('\ufeffperson_id\n'),
    requestReveal: vi.fn<ConsoleApi['requestReveal']>(),
    revealRequests: vi.fn<ConsoleApi['revealRequests']>().mockResolvedValue({ items: [], nextCursor: null }),
    approveReveal: vi.fn<ConsoleApi['approveReveal']>(),
    refuseReveal: vi.fn<ConsoleApi['refuseReveal']>(),
    notify: vi.fn<ConsoleApi['notify']>(),
    caseNotifications: vi.fn<ConsoleApi['caseNotifications']>().mockResolvedValue(notifications([])),
    listOfficials: vi.fn<ConsoleApi['listOfficials']>().mockResolvedValue({ items: [] }),
    createOfficial: vi.fn<ConsoleApi['createOfficial']>(),
    disableOfficial: vi.fn<ConsoleApi['disableOfficial']>(),
    resetOfficial: vi.fn<ConsoleApi['resetOfficial']>(),
    audit: vi.fn<ConsoleApi['audit']>().mockResolvedValue({ items: [], nextCursor: null }),
    verifyAudit: vi.fn<ConsoleApi['verifyAudit']>().mockResolvedValue({
      ok: true,
      entries: 0,
      fromSeq: 0,
      toSeq: 0,
      anchor: 'genesis',
      firstBroken: null,
      lastCheckpoint: null,
    }),
    listCarriers: vi.fn<ConsoleApi['listCarriers']>().mockResolvedValue({ items: [], nextCursor: null }),
    createCarrier: vi.fn<ConsoleApi['createCarrier']>(),
    updateCarrier: vi.fn<ConsoleApi['updateCarrier']>(),
    retireCarrier: vi.fn<ConsoleApi['retireCarrier']>(),
    issueCode: vi.fn<ConsoleApi['issueCode']>(),
    posterPdf: vi.fn<ConsoleApi['posterPdf']>().mockResolvedValue(new Uint8Array([0x25, 0x50, 0x44, 0x46])),
    posterSheetsPdf: vi
      .fn<ConsoleApi['posterSheetsPdf']>()
      .mockResolvedValue(new Uint8Array([0x25, 0x50, 0x44, 0x46])),
    importCarriers: vi.fn<ConsoleApi['importCarriers']>(),
    carrierStaff: vi.fn<ConsoleApi['carrierStaff']>().mockImplementation(async (id) => ({
      carrierId: id,
      staff: [],
    })),
    bindStaff: vi.fn<ConsoleApi['bindStaff']>(),
    unbindStaff: vi.fn<ConsoleApi['unbindStaff']>(),
    staffAccounts: vi.fn<ConsoleApi['staffAccounts']>().mockResolvedValue({ items: [] }),
    listOperators: vi.fn<ConsoleApi['listOperators']>().mockResolvedValue({ items: [operator()] }),
    createOperator: vi.fn<ConsoleApi['createOperator']>(),
    listClients: vi.fn<ConsoleApi['listClients']>().mockResolvedValue({ items: [] }),
    createClient: vi.fn<ConsoleApi['createClient']>(),
    disableClient: vi.fn<ConsoleApi['disableClient']>(),
    rotateClientSecret: vi.fn<ConsoleApi['rotateClientSecret']>(),
  };
}
