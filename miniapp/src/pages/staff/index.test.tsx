import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { carrier, errorBody, fakeApi, ride, taro, type Reply } from '../../../test/harness';
import StaffPage from './index';

const staffToken = {
  status: 200,
  body: { accessToken: 'staff-1', tokenType: 'Bearer', expiresIn: 900, scope: 'staff' },
};
const bound = {
  status: 200,
  body: {
    items: [
      {
        ...carrier,
        operatorId: 'bus',
        status: 'active',
        codeGeneration: 1,
        createdAt: '',
        updatedAt: '',
        retiredAt: null,
      },
    ],
  },
};
const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value } });

async function signIn() {
  render(<StaffPage />);
  type('账号', 'client-1');
  type('密钥', 'secret-1');
  fireEvent.click(screen.getByRole('button', { name: '登录' }));
  fireEvent.click(await screen.findByRole('button', { name: '选择车辆 粤B12345' }));
}

describe('staff page', () => {
  it('signs in, lists bound vehicles and registers a rider who cannot scan', async () => {
    const seen = fakeApi({
      'POST /v1/auth/token': staffToken,
      'GET /v1/staff/me/carriers': bound,
      'POST /v1/carriers/7/manual-rides': {
        status: 201,
        body: {
          ride: ride({ source: 'manual' }),
          rider: { matched: true, name: '李*', phone: '139****1111' },
        },
      },
    });
    await signIn();
    type('姓名', '李四');
    type('手机号', '13900001111');
    fireEvent.click(screen.getByRole('button', { name: '登记乘车' }));
    const result = await screen.findByText(/已登记：李\* 139\*\*\*\*1111，粤B12345/);
    expect(result.textContent).toContain('（匹配到已登记乘客）');
    const manual = seen.find((r) => r.path === '/v1/carriers/7/manual-rides')!;
    expect(manual.authorization).toBe('Bearer staff-1');
    expect(manual.data).toMatchObject({ name: '李四', phone: '13900001111' });
    expect(manual.data!.clientRideId).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.filter((r) => r.path === '/v1/auth/passenger')).toHaveLength(0);
  });

  it('retries a registration that lost its reply with the same clientRideId', async () => {
    let calls = 0;
    const seen = fakeApi({
      'POST /v1/auth/token': staffToken,
      'GET /v1/staff/me/carriers': bound,
      'POST /v1/carriers/7/manual-rides': (): Reply =>
        ++calls === 1
          ? 'network'
          : {
              status: 200,
              body: { ride: ride(), rider: { matched: false, name: '李*', phone: '139****1111' } },
            },
    });
    await signIn();
    type('姓名', '李四');
    type('手机号', '13900001111');
    fireEvent.click(screen.getByRole('button', { name: '登记乘车' }));
    expect((await screen.findByRole('alert')).textContent).toContain('网络不可用');
    fireEvent.click(screen.getByRole('button', { name: '登记乘车' }));
    await screen.findByText(/已登记/);
    const ids = seen.filter((r) => r.path === '/v1/carriers/7/manual-rides').map((r) => r.data!.clientRideId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
  });

  it('shows wrong credentials, an unbound vehicle and input errors', async () => {
    let tries = 0;
    fakeApi({
      'POST /v1/auth/token': () =>
        ++tries === 1 ? { status: 401, body: errorBody('invalid_client') } : staffToken,
      'GET /v1/staff/me/carriers': bound,
      'POST /v1/carriers/7/manual-rides': { status: 403, body: errorBody('carrier_not_bound') },
    });
    render(<StaffPage />);
    type('账号', 'client-1');
    type('密钥', 'wrong');
    fireEvent.click(screen.getByRole('button', { name: '登录' }));
    expect((await screen.findByRole('alert')).textContent).toContain('账号或密钥错误');
    fireEvent.click(screen.getByRole('button', { name: '登录' }));
    fireEvent.click(await screen.findByRole('button', { name: '选择车辆 粤B12345' }));
    fireEvent.click(screen.getByRole('button', { name: '登记乘车' }));
    expect(screen.getByText('请输入真实姓名')).toBeTruthy();
    type('姓名', '李四');
    type('手机号', '13900001111');
    fireEvent.click(screen.getByRole('button', { name: '登记乘车' }));
    expect((await screen.findByRole('alert')).textContent).toContain('您的账号未绑定这辆车');
  });

  it('says when the account has no vehicles', async () => {
    fakeApi({
      'POST /v1/auth/token': staffToken,
      'GET /v1/staff/me/carriers': { status: 200, body: { items: [] } },
    });
    render(<StaffPage />);
    type('账号', 'c');
    type('密钥', 's');
    fireEvent.click(screen.getByRole('button', { name: '登录' }));
    expect(await screen.findByText('该账号尚未绑定车辆，请联系运营单位。')).toBeTruthy();
  });

  it('verifies a pasted status token, and explains an expired one (a screenshot)', async () => {
    const seen = fakeApi({
      'POST /v1/auth/token': staffToken,
      'GET /v1/staff/me/carriers': bound,
      'POST /v1/status/verify': (req) =>
        req.data!.token === 'RTS1.fresh'
          ? {
              status: 200,
              body: {
                colour: 'green',
                name: '张*丰',
                issuedAt: '2026-11-22T08:00:00.000Z',
                expiresAt: '2026-11-22T08:01:00.000Z',
              },
            }
          : { status: 400, body: errorBody('status_token_expired') },
    });
    await signIn();
    type('健康码内容', ' RTS1.fresh ');
    fireEvent.click(screen.getByRole('button', { name: '核验' }));
    const result = await screen.findByText(/^绿码 · 张\*丰 · 有效至/);
    expect(within(result.parentElement!).getByRole('status', { name: '健康状态: 绿码' })).toBeTruthy();
    expect(seen.find((r) => r.path === '/v1/status/verify')!.data).toEqual({ token: 'RTS1.fresh' });
    type('健康码内容', 'RTS1.old');
    fireEvent.click(screen.getByRole('button', { name: '核验' }));
    expect((await screen.findByRole('alert')).textContent).toContain('健康码已过期（可能是截图）');
  });

  it('scans a status QR with the camera on weapp', async () => {
    taro.scanCode.mockResolvedValue({ result: 'RTS1.fresh', errMsg: 'scanCode:ok' });
    fakeApi({
      'POST /v1/auth/token': staffToken,
      'GET /v1/staff/me/carriers': bound,
      'POST /v1/status/verify': {
        status: 200,
        body: {
          colour: 'red',
          name: null,
          issuedAt: '2026-11-22T08:00:00.000Z',
          expiresAt: '2026-11-22T08:01:00.000Z',
        },
      },
    });
    await signIn();
    fireEvent.click(screen.getByRole('button', { name: '扫描乘客健康码' }));
    expect(await screen.findByText(/^红码 · — · 有效至/)).toBeTruthy();
  });

  it('returns to the sign-in form when the session cannot be renewed', async () => {
    taro.storage.set('rt.staffToken', { token: 'stale', expiresAt: Date.now() + 600_000 });
    fakeApi({ 'GET /v1/staff/me/carriers': { status: 401, body: errorBody('token_expired') } });
    render(<StaffPage />);
    expect(await screen.findByText('登录已过期，请重新登录。')).toBeTruthy();
    expect(screen.getByRole('button', { name: '登录' })).toBeTruthy();
    await waitFor(() => expect(taro.storage.has('rt.staffToken')).toBe(false));
  });

  it('signs out', async () => {
    fakeApi({ 'POST /v1/auth/token': staffToken, 'GET /v1/staff/me/carriers': bound });
    await signIn();
    fireEvent.click(screen.getByRole('button', { name: '退出登录' }));
    expect(screen.getByRole('button', { name: '登录' })).toBeTruthy();
    expect(taro.storage.has('rt.staffToken')).toBe(false);
  });
});
