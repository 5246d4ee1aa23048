import { fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { errorBody, fakeApi, ride, taro } from '../../../test/harness';
import { formatDate, formatDateTime } from '../../services/format';
import ExportPage from './index';

const EXPORT = 'GET /v1/passengers/me/export';

/** GET /v1/passengers/me/export of a confirmed passenger with one ride, a notice and an access. */
function exported(overrides: Record<string, unknown> = {}) {
  return {
    generatedAt: '2026-11-23T02:00:00.000Z',
    passenger: {
      id: 'p-1',
      registration: 'app',
      name: '张三丰',
      phone: '13812345678',
      idNumber: null,
      idType: null,
      superAppLinked: true,
      consentVersion: '2026-11.1a2b3c4d',
      consentedAt: '2026-11-20T01:00:00.000Z',
      createdAt: '2026-11-20T00:59:00.000Z',
    },
    rides: [
      ride(),
      ride({ id: '7a2d', source: 'offline', late: true, boardedAt: '2026-11-21T10:00:00.000Z' }),
    ],
    status: {
      colour: 'yellow',
      reason: 'exposure',
      since: '2026-11-22T09:00:00.000Z',
      validUntil: '2026-12-06T08:05:00.000Z',
    },
    notifications: [
      {
        id: 'n-1',
        kind: 'exposure',
        createdAt: '2026-11-22T09:00:00.000Z',
        exposure: {
          carrier: { id: 7, kind: 'bus', plate: '粤B12345', route: '36路', city: '深圳' },
          boardedAt: '2026-11-22T08:05:00.000Z',
          level: 'close',
        },
        advice: { 'zh-CN': '请居家观察并进行核酸检测。', en: 'Stay home and get tested.' },
        observeUntil: '2026-12-06T08:05:00.000Z',
      },
    ],
    accessLog: [
      { at: '2026-11-22T08:30:00.000Z', agency: '深圳市卫生健康委员会', purpose: 'contact_tracing' },
    ],
    retentionDays: 28,
    ...overrides,
  };
}

/** jsdom's Blob has no text(): read it as the browser would. */
function textOf(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error);
    reader.readAsText(blob);
  });
}

const region = (name: string) => screen.getByRole('region', { name });
const rowsOf = (el: HTMLElement) =>
  within(el)
    .getAllByRole('listitem')
    .map((i) => i.textContent);

describe('export page', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('shows loading, then everything the server holds, as the API gives it', async () => {
    const seen = fakeApi({ [EXPORT]: { status: 200, body: exported() } });
    render(<ExportPage />);
    expect(screen.getByText('加载中…')).toBeTruthy();
    const profile = await screen.findByRole('region', { name: '身份信息' });
    expect(profile.textContent).toBe(
      [
        '身份信息',
        '姓名张三丰',
        '手机号13812345678',
        '证件类型未登记',
        '证件号码未登记',
        '登记方式小程序',
        '关联微信账号是',
        `同意的告知版本2026-11.1a2b3c4d · ${formatDateTime('2026-11-20T01:00:00.000Z')}`,
        `账号创建时间${formatDateTime('2026-11-20T00:59:00.000Z')}`,
      ].join(''),
    );
    expect(screen.getByText(`生成于 ${formatDateTime('2026-11-23T02:00:00.000Z')}`)).toBeTruthy();
    const rides = region('乘车记录（2）');
    expect(within(rides).getByText('乘车记录保存 28 天，更早的已销毁。')).toBeTruthy();
    expect(rowsOf(rides)).toEqual([
      `${formatDateTime('2026-11-22T08:05:00.000Z')}公交 粤B12345 · 36路 · 深圳 · 扫码`,
      `${formatDateTime('2026-11-21T10:00:00.000Z')}公交 粤B12345 · 36路 · 深圳 · 离线补登`,
    ]);
    const status = region('健康状态');
    expect(status.textContent).toContain('黄码您曾与确诊病例同乘，请居家观察');
    expect(status.textContent).toContain(`观察至 ${formatDateTime('2026-12-06T08:05:00.000Z')}`);
    expect(rowsOf(region('通知（1）'))).toEqual([
      `${formatDateTime('2026-11-22T09:00:00.000Z')}接触提醒 · 密切接触` +
        `公交 粤B12345 36路 · ${formatDateTime('2026-11-22T08:05:00.000Z')}请居家观察并进行核酸检测。`,
    ]);
    expect(rowsOf(region('数据访问记录'))).toEqual([
      `${formatDateTime('2026-11-22T08:30:00.000Z')}深圳市卫生健康委员会密切接触者追踪`,
    ]);
    expect(seen.filter((r) => r.path === '/v1/passengers/me/export')).toHaveLength(1);
    expect(taro.setNavigationBarTitle).toHaveBeenLastCalledWith({ title: '我的数据' });
  });

  it('in English, with an ID document and nothing else held', async () => {
    taro.storage.set('rt.lang', 'en');
    fakeApi({
      [EXPORT]: {
        status: 200,
        body: exported({
          passenger: {
            ...exported().passenger,
            idType: 'passport',
            idNumber: 'E12345678',
            superAppLinked: false,
          },
          rides: [],
          status: { colour: 'green', reason: 'none', since: null, validUntil: null },
          notifications: [],
          accessLog: [],
          retentionDays: 14,
        }),
      },
    });
    render(<ExportPage />);
    const profile = await screen.findByRole('region', { name: 'Identity' });
    expect(profile.textContent).toContain('ID documentPassport');
    expect(profile.textContent).toContain('ID numberE12345678');
    expect(profile.textContent).toContain('Linked WeChat accountNo');
    const rides = region('Rides (0)');
    expect(rides.textContent).toContain('Rides are kept for 14 days; older ones are destroyed.');
    expect(within(rides).getByText('No rides')).toBeTruthy();
    expect(region('Health status').textContent).toBe('Health statusGreenNo risk found');
    expect(within(region('Notifications (0)')).getByText('No notifications')).toBeTruthy();
    expect(
      within(region('Who accessed my data')).getByText('The health authority has not accessed your data.'),
    ).toBeTruthy();
    expect(screen.queryByRole('list')).toBeNull();
  });

  it('shows an error with retry, which loads it again', async () => {
    let calls = 0;
    fakeApi({
      [EXPORT]: () =>
        ++calls === 1
          ? { status: 503, body: errorBody('service_unavailable') }
          : { status: 200, body: exported() },
    });
    render(<ExportPage />);
    const alert = await screen.findByRole('alert');
    expect(screen.queryByRole('region')).toBeNull();
    fireEvent.click(within(alert).getByRole('button', { name: '重试' }));
    expect(await screen.findByRole('region', { name: '身份信息' })).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
    expect(calls).toBe(2);
  });

  it('h5: downloads the export as a JSON file', async () => {
    process.env.TARO_ENV = 'h5';
    taro.storage.set('rt.loginCode', 'ok:tester');
    const body = exported();
    fakeApi({ [EXPORT]: { status: 200, body } });
    let blob: Blob | undefined;
    const createObjectURL = vi.fn((b: Blob) => {
      blob = b;
      return 'blob:http://127.0.0.1/export';
    });
    const revokeObjectURL = vi.fn();
    Object.assign(URL, { createObjectURL, revokeObjectURL });
    const clicked: HTMLAnchorElement[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this);
    });
    render(<ExportPage />);
    fireEvent.click(await screen.findByRole('button', { name: '下载 JSON 文件' }));

    const file = `ridetrace-export-${formatDate('2026-11-23T02:00:00.000Z')}.json`;
    expect(clicked).toHaveLength(1);
    expect(clicked[0]!.download).toBe(file);
    expect(clicked[0]!.href).toBe('blob:http://127.0.0.1/export');
    expect(clicked[0]!.isConnected).toBe(false);
    expect(blob!.type).toBe('application/json');
    expect(JSON.parse(await textOf(blob!))).toEqual(body);
    expect(screen.getByRole('status').textContent).toBe(`已下载 ${file}`);
    await vi.waitFor(() => expect(revokeObjectURL).toHaveBeenCalledWith('blob:http://127.0.0.1/export'));
  });

  it('weapp: copies the export as JSON to the clipboard, and says when that fails', async () => {
    const body = exported();
    fakeApi({ [EXPORT]: { status: 200, body } });
    const setClipboardData = vi
      .fn()
      .mockResolvedValueOnce({ errMsg: 'setClipboardData:ok' })
      .mockRejectedValueOnce({ errMsg: 'setClipboardData:fail' });
    Object.assign(taro, { setClipboardData });
    render(<ExportPage />);
    const copy = await screen.findByRole('button', { name: '复制 JSON 数据' });
    expect(screen.queryByRole('button', { name: '下载 JSON 文件' })).toBeNull();
    fireEvent.click(copy);
    expect((await screen.findByRole('status')).textContent).toBe(
      '已复制到剪贴板，可粘贴到聊天或笔记中保存。',
    );
    expect(JSON.parse((setClipboardData.mock.calls[0]![0] as { data: string }).data)).toEqual(body);
    fireEvent.click(copy);
    expect(await screen.findByText('保存失败，请重试。')).toBeTruthy();
  });
});
