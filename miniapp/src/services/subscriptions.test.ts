import { describe, expect, it } from 'vitest';
import { errorBody, fakeApi, profile, taro, type FakeRequest } from '../../test/harness';
import { askNoticeSubscriptions, exposureTemplateId, secondaryTemplateId } from './subscriptions';

const posted = (seen: FakeRequest[]) =>
  seen.filter((r) => r.path === '/v1/passengers/me/subscriptions').map((r) => r.data);

const answer = (answers: Record<string, string>) =>
  taro.requestSubscribeMessage.mockResolvedValue({ errMsg: 'requestSubscribeMessage:ok', ...answers });

describe('notice subscriptions', () => {
  it('template ids come from the build (.env.[mode]), with the server defaults', () => {
    expect([exposureTemplateId(), secondaryTemplateId()]).toEqual([
      'ridetrace_exposure',
      'ridetrace_secondary_exposure',
    ]);
    process.env.TARO_APP_EXPOSURE_TEMPLATE_ID = 'tmpl-exposure';
    process.env.TARO_APP_SECONDARY_TEMPLATE_ID = 'tmpl-secondary';
    try {
      expect([exposureTemplateId(), secondaryTemplateId()]).toEqual(['tmpl-exposure', 'tmpl-secondary']);
    } finally {
      delete process.env.TARO_APP_EXPOSURE_TEMPLATE_ID;
      delete process.env.TARO_APP_SECONDARY_TEMPLATE_ID;
    }
  });

  it('one prompt for both templates; each answer posted, the exposure one first; the exposure count kept', async () => {
    taro.storage.set('rt.profile', profile({ confirmed: true, messageGrants: 0 }));
    answer({ ridetrace_secondary_exposure: 'accept', ridetrace_exposure: 'accept' });
    const seen = fakeApi({
      'POST /v1/passengers/me/subscriptions': { status: 200, body: { messageGrants: 1 } },
    });
    expect(await askNoticeSubscriptions()).toBe(1);
    expect(taro.requestSubscribeMessage).toHaveBeenCalledTimes(1);
    expect(taro.requestSubscribeMessage).toHaveBeenCalledWith({
      tmplIds: ['ridetrace_exposure', 'ridetrace_secondary_exposure'],
    });
    expect(posted(seen)).toEqual([
      { templateId: 'ridetrace_exposure', result: 'accept' },
      { templateId: 'ridetrace_secondary_exposure', result: 'accept' },
    ]);
    expect(taro.storage.get('rt.profile')).toMatchObject({ messageGrants: 1 });
  });

  it('accepting with a sound or vibration reminder counts as accepting', async () => {
    answer({ ridetrace_exposure: 'acceptWithAudio', ridetrace_secondary_exposure: 'acceptWithAlert' });
    const seen = fakeApi({
      'POST /v1/passengers/me/subscriptions': { status: 200, body: { messageGrants: 1 } },
    });
    expect(await askNoticeSubscriptions()).toBe(1);
    expect(posted(seen)).toEqual([
      { templateId: 'ridetrace_exposure', result: 'accept' },
      { templateId: 'ridetrace_secondary_exposure', result: 'accept' },
    ]);
  });

  it('a template without an answer is not posted; no answer at all posts nothing', async () => {
    answer({ ridetrace_secondary_exposure: 'filter' });
    let seen = fakeApi({
      'POST /v1/passengers/me/subscriptions': { status: 200, body: { messageGrants: 0 } },
    });
    expect(await askNoticeSubscriptions()).toBe(0);
    expect(posted(seen)).toEqual([{ templateId: 'ridetrace_secondary_exposure', result: 'filter' }]);

    answer({ ridetrace_exposure: 'maybe' });
    seen = fakeApi({});
    expect(await askNoticeSubscriptions()).toBeNull();
    expect(posted(seen)).toEqual([]);
  });

  it('a refused post loses only its own answer; a failed prompt posts nothing and never rejects', async () => {
    answer({ ridetrace_exposure: 'accept', ridetrace_secondary_exposure: 'accept' });
    const seen = fakeApi({
      'POST /v1/passengers/me/subscriptions': (req) =>
        req.data?.templateId === 'ridetrace_exposure'
          ? { status: 400, body: errorBody('validation_failed') }
          : { status: 200, body: { messageGrants: 2 } },
    });
    expect(await askNoticeSubscriptions()).toBe(2);
    expect(posted(seen)).toHaveLength(2);

    taro.requestSubscribeMessage.mockRejectedValue({ errMsg: 'requestSubscribeMessage:fail' });
    expect(await askNoticeSubscriptions()).toBeNull();
    expect(posted(seen)).toHaveLength(2);
  });

  it('the same id for both templates is asked for once', async () => {
    process.env.TARO_APP_SECONDARY_TEMPLATE_ID = 'ridetrace_exposure';
    try {
      answer({ ridetrace_exposure: 'accept' });
      const seen = fakeApi({
        'POST /v1/passengers/me/subscriptions': { status: 200, body: { messageGrants: 1 } },
      });
      await askNoticeSubscriptions();
      expect(taro.requestSubscribeMessage).toHaveBeenCalledWith({ tmplIds: ['ridetrace_exposure'] });
      expect(posted(seen)).toHaveLength(1);
    } finally {
      delete process.env.TARO_APP_SECONDARY_TEMPLATE_ID;
    }
  });

  it('h5: no prompt', async () => {
    process.env.TARO_ENV = 'h5';
    expect(await askNoticeSubscriptions()).toBeNull();
    expect(taro.requestSubscribeMessage).not.toHaveBeenCalled();
  });
});
