import type {
  Carrier,
  Case,
  Client,
  CaseNotifications,
  CaseRide,
  Exposure,
  ExposurePage,
  Notification,
  OfficialAccount,
  OfficialSession,
  Operator,
  RevealRequest,
  StaffAccount,
} from '@ridetrace/shared';

export const CASE_ID = '5d1c1f43-7f0e-4c39-9a5a-1c2b7f0e4d11';

export function official(over: Partial<OfficialAccount> = {}): OfficialAccount {
  return {
    id: '0a3f9e2c-1111-4b2a-9c3d-000000000001',
    username: 'li.supervisor',
    name: '李主管',
    agency: '深圳市疾控中心',
    jurisdiction: ['深圳'],
    roles: ['supervisor'],
    scopes: ['case:write', 'trace:read', 'trace:reveal', 'trace:notify', 'status:clear', 'reveal:approve'],
    operatorId: null,
    createdAt: '2026-11-01T00:00:00.000Z',
    disabledAt: null,
    ...over,
  };
}

export const TRACER = official({
  id: '0a3f9e2c-1111-4b2a-9c3d-000000000002',
  username: 'wang.tracer',
  name: '王追踪',
  roles: ['tracer'],
  scopes: ['case:write', 'trace:read', 'trace:reveal'],
});

export function session(who: OfficialAccount = official(), expiresIn = 900): OfficialSession {
  return {
    csrfToken: 'csrf-token',
    expiresIn,
    refreshExpiresAt: '2026-11-22T12:00:00.000Z',
    official: who,
  };
}

export function aCase(over: Partial<Case> = {}): Case {
  return {
    id: CASE_ID,
    caseNumber: 'SZ-2026-0042',
    status: 'open',
    infectiousFrom: '2026-11-18T00:00:00.000Z',
    infectiousTo: '2026-11-20T00:00:00.000Z',
    reason: '确诊病例流调',
    subject: { name: '张*', phone: '138****0001', passengers: 1 },
    unverifiedClaims: [],
    openedBy: '李主管',
    openedAt: '2026-11-20T08:00:00.000Z',
    closedAt: null,
    ...over,
  };
}

const carrier = (
  id: number,
  plate: string,
  kind: CaseRide['carrier']['kind'] = 'bus',
  route: string | null = 'M375',
) => ({
  id,
  kind,
  plate,
  route,
  city: '深圳',
});
const noFlags = { carrierSwitch: false, lateOffline: false, manual: false };

export function rides(): CaseRide[] {
  return [
    {
      id: '11111111-0000-4000-8000-000000000001',
      carrier: carrier(1, '粤B12345'),
      boardedAt: '2026-11-18T08:05:00.000Z',
      source: 'scan',
      flags: noFlags,
    },
    {
      id: '11111111-0000-4000-8000-000000000002',
      carrier: carrier(2, '粤B88888', 'taxi', null),
      boardedAt: '2026-11-18T09:00:00.000Z',
      source: 'offline',
      flags: { ...noFlags, lateOffline: true },
    },
    {
      id: '11111111-0000-4000-8000-000000000003',
      carrier: carrier(1, '粤B12345'),
      boardedAt: '2026-11-19T18:30:00.000Z',
      source: 'scan',
      flags: noFlags,
    },
  ];
}

export function exposure(n: number, over: Partial<Exposure> = {}): Exposure {
  return {
    personId: `p-${n}`,
    name: `陈*${n}`,
    phone: `139****000${n}`,
    idNumber: null,
    registration: 'app',
    level: n % 2 ? 'close' : 'possible',
    degree: 1,
    firstContactAt: '2026-11-18T08:06:00.000Z',
    contacts: [
      {
        carrier: carrier(1, '粤B12345'),
        caseBoardedAt: '2026-11-18T08:05:00.000Z',
        contactBoardedAt: '2026-11-18T08:06:00.000Z',
        gapMinutes: 1,
        level: 'close',
        degree: 1,
        via: null,
        flags: { ...noFlags, carrierSwitch: n === 1 },
      },
    ],
    ...over,
  };
}

export function exposurePage(items: Exposure[], over: Partial<ExposurePage> = {}): ExposurePage {
  return {
    caseId: CASE_ID,
    degree: 1,
    revealed: false,
    jurisdiction: ['深圳'],
    caseRides: 3,
    total: items.length,
    unlinkable: 0,
    items,
    nextCursor: null,
    ...over,
  };
}

export function revealRequest(over: Partial<RevealRequest> = {}): RevealRequest {
  return {
    id: '22222222-0000-4000-8000-000000000001',
    caseId: CASE_ID,
    caseNumber: 'SZ-2026-0042',
    requestedBy: { id: TRACER.id, kind: 'person', name: TRACER.name, agency: TRACER.agency },
    reason: '需要联系密接人员',
    requestedAt: '2026-11-20T09:00:00.000Z',
    state: 'pending',
    selfGranted: false,
    decidedBy: null,
    decidedAt: null,
    note: null,
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    ...over,
  };
}

export function notification(n: number, over: Partial<Notification> = {}): Notification {
  return {
    id: `n-${n}`,
    caseId: CASE_ID,
    personId: `p-${n}`,
    degree: 1,
    channel: 'app',
    state: 'queued',
    attempts: 0,
    lastError: null,
    createdAt: '2026-11-20T10:00:00.000Z',
    updatedAt: '2026-11-20T10:00:00.000Z',
    sentAt: null,
    deliveredAt: null,
    ...over,
  };
}

export function notifications(items: Notification[]): CaseNotifications {
  const summary: Record<string, number> = { queued: 0, sending: 0, sent: 0, failed: 0 };
  for (const n of items) summary[n.state] = (summary[n.state] ?? 0) + 1;
  return { items, summary };
}

export const OPERATOR_ID = 'metro-bus';

export function carrierRow(id: number, over: Partial<Carrier> = {}): Carrier {
  return {
    id,
    operatorId: OPERATOR_ID,
    kind: 'bus',
    plate: `粤B${String(10000 + id)}`,
    route: 'M375',
    city: '深圳',
    status: 'active',
    codeGeneration: 1,
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
    retiredAt: null,
    ...over,
  };
}

export function operator(id = OPERATOR_ID, name = '深圳巴士集团'): Operator {
  return { id, name, createdAt: '2026-10-01T00:00:00.000Z' };
}

export function machineClient(over: Partial<Client> = {}): Client {
  return {
    clientId: 'cli_staff_0001',
    name: '车载终端 0001',
    role: 'staff',
    scopes: ['staff'],
    operatorId: OPERATOR_ID,
    createdAt: '2026-11-01T00:00:00.000Z',
    disabledAt: null,
    ...over,
  };
}

export function staffAccount(n: number, over: Partial<StaffAccount> = {}): StaffAccount {
  return {
    clientId: `cli_staff_000${n}`,
    name: `司机 ${n}`,
    operatorId: OPERATOR_ID,
    disabled: false,
    carriers: 0,
    ...over,
  };
}

/** A fleet manager of OPERATOR_ID (console `operator` role). */
export const FLEET_MANAGER = official({
  id: '0a3f9e2c-1111-4b2a-9c3d-0000000000f1',
  username: 'zhao.fleet',
  name: '赵车队',
  agency: '深圳巴士集团',
  jurisdiction: [],
  roles: ['operator'],
  scopes: ['carriers:write'],
  operatorId: OPERATOR_ID,
});

/** An administrator person: official accounts, operators, machine clients and every operator's carriers. */
export const ADMIN = official({
  id: '0a3f9e2c-1111-4b2a-9c3d-0000000000ad',
  username: 'zhou.admin',
  name: '周管理',
  jurisdiction: [],
  roles: ['admin'],
  scopes: ['officials:admin', 'admin'],
});
