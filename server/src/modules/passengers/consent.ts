import type { Consent } from '@ridetrace/shared';

/** The consent text shown on first confirmation. Changing it needs a new CONSENT_VERSION. */
export function consentText(version: string): Consent {
  return {
    version,
    text: {
      'zh-CN':
        '为配合传染病疫情防控，本服务记录您乘坐的交通工具（车辆、线路、上车时间）以及您的姓名、手机号和（可选）身份证号。' +
        '信息加密存储，仅在确诊病例的密切接触者追踪中由卫生健康部门使用，不用于其他目的；' +
        '乘车记录保存 28 天后自动销毁。您可以随时在“设置”中删除您的数据。',
      en:
        'To support infectious-disease control, this service records the vehicles you ride (vehicle, route, boarding time) ' +
        'together with your name, phone number and (optionally) ID number. The data are stored encrypted and used only by ' +
        'health authorities to trace close contacts of confirmed cases, for no other purpose; ride records are destroyed ' +
        'after 28 days. You can delete your data at any time in Settings.',
    },
  };
}
