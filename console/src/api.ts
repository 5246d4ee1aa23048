import { RideTraceClient } from '@ridetrace/sdk';
import { createContext, useContext } from 'react';

/** The SDK methods the console uses: pages take this, so tests hand in a fake object of the same shape. */
export type ConsoleApi = Pick<
  RideTraceClient,
  | 'signInOfficialSession'
  | 'refreshOfficialSession'
  | 'signOutOfficial'
  | 'officialMe'
  | 'listCases'
  | 'openCase'
  | 'getCase'
  | 'caseRides'
  | 'closeCase'
  | 'exposures'
  | 'exposuresCsv'
  | 'requestReveal'
  | 'revealRequests'
  | 'approveReveal'
  | 'refuseReveal'
  | 'notify'
  | 'caseNotifications'
  | 'listOfficials'
  | 'createOfficial'
  | 'disableOfficial'
  | 'resetOfficial'
  | 'audit'
  | 'verifyAudit'
  | 'listCarriers'
  | 'createCarrier'
  | 'updateCarrier'
  | 'retireCarrier'
  | 'issueCode'
  | 'posterPdf'
  | 'posterSheetsPdf'
  | 'importCarriers'
  | 'carrierStaff'
  | 'bindStaff'
  | 'unbindStaff'
  | 'staffAccounts'
  | 'listOperators'
  | 'createOperator'
  | 'listClients'
  | 'createClient'
  | 'disableClient'
  | 'rotateClientSecret'
>;

/** The browser's client: same origin as the page, the session in httpOnly cookies with its CSRF header. */
export function createBrowserApi(): ConsoleApi {
  return new RideTraceClient({ baseUrl: window.location.origin, cookies: 'same-origin' });
}

export const ApiContext = createContext<ConsoleApi | null>(null);

export function useApi(): ConsoleApi {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside <ApiContext.Provider>');
  return api;
}
