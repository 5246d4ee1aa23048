import type { ErrorCode } from '@ridetrace/shared';
import { getLang, type Bilingual, type Lang } from './i18n-core';

/** Errors that arise in the client, not on the server. */
export type ClientErrorCode = 'network_error' | 'login_unavailable' | 'bad_response' | 'unknown_error';
export type AppErrorCode = ErrorCode | ClientErrorCode;

/**
 * What the passenger or staff member reads for every server error code (`ERRORS` in shared/src/errors.ts).
 * `satisfies Record<ErrorCode, …>`: a code added on the server and missing here fails the typecheck.
 */
export const SERVER_ERROR_MESSAGES = {
  validation_failed: {
    'zh-CN': '填写的信息格式不正确，请检查后重试。',
    en: 'Some input is not valid; please check it.',
  },
  malformed_json: {
    'zh-CN': '请求格式错误，请更新小程序后重试。',
    en: 'The request was malformed; please update the app.',
  },
  unsupported_media_type: {
    'zh-CN': '请求格式错误，请更新小程序后重试。',
    en: 'The request was malformed; please update the app.',
  },
  payload_too_large: { 'zh-CN': '提交的内容过长。', en: 'What you sent is too long.' },
  route_not_found: { 'zh-CN': '该功能暂不可用。', en: 'This feature is not available.' },
  method_not_allowed: { 'zh-CN': '该功能暂不可用。', en: 'This feature is not available.' },
  rate_limited: {
    'zh-CN': '操作太频繁，请稍等一分钟再试。',
    en: 'Too many attempts. Please wait a minute and try again.',
  },
  internal_error: {
    'zh-CN': '服务器出错了，请稍后重试。',
    en: 'Something went wrong on our side; please retry later.',
  },
  service_unavailable: {
    'zh-CN': '服务暂时不可用，请稍后重试。',
    en: 'The service is temporarily unavailable; please retry shortly.',
  },
  overloaded: {
    'zh-CN': '当前使用人数过多，请稍后几秒再试。',
    en: 'The service is very busy; please try again in a few seconds.',
  },
  upstream_unavailable: {
    'zh-CN': '登录服务暂时无响应，请稍后重试。',
    en: 'The sign-in service did not answer; please retry shortly.',
  },
  superapp_unavailable: {
    'zh-CN': '平台服务暂时无响应，请稍后重试。',
    en: 'The super-app service did not answer; please retry shortly.',
  },
  sms_unavailable: {
    'zh-CN': '短信服务暂时无响应，请稍后重试。',
    en: 'The SMS service did not answer; please retry shortly.',
  },
  programme_ended: {
    'zh-CN': '乘车登记已结束，不再登记新的乘车信息；已登记的数据已销毁。',
    en: 'Ride registration has ended: nothing new is registered, and the registered data has been destroyed.',
  },

  auth_required: { 'zh-CN': '请先登录。', en: 'Please sign in first.' },
  token_invalid: {
    'zh-CN': '登录状态无效，请重新进入。',
    en: 'Your session is not valid; please reopen the app.',
  },
  token_expired: { 'zh-CN': '登录已过期，请重新进入。', en: 'Your session expired; please reopen the app.' },
  forbidden: { 'zh-CN': '当前账号无权进行此操作。', en: 'This account may not do that.' },
  csrf_invalid: {
    'zh-CN': '页面已过期，请刷新后重试。',
    en: 'This page is out of date; please reload it and retry.',
  },
  login_code_invalid: {
    'zh-CN': '登录失败（登录凭证无效或已使用），请重试。',
    en: 'Sign-in failed (the login code is invalid or used); please retry.',
  },
  invalid_client: { 'zh-CN': '账号或密钥错误。', en: 'Wrong account or secret.' },

  operator_not_found: { 'zh-CN': '运营单位不存在。', en: 'No such operator.' },
  operator_exists: { 'zh-CN': '运营单位已存在。', en: 'This operator already exists.' },
  client_not_found: { 'zh-CN': '账号不存在。', en: 'No such account.' },

  carrier_not_found: { 'zh-CN': '车辆不存在。', en: 'No such vehicle.' },
  carrier_retired: { 'zh-CN': '该车辆已停用。', en: 'This vehicle is retired.' },
  carrier_plate_taken: { 'zh-CN': '该车牌已登记。', en: 'This plate is already registered.' },
  csv_invalid: { 'zh-CN': '文件无法作为车辆表格读取。', en: 'The file cannot be read as a carriers table.' },
  csv_rows_invalid: {
    'zh-CN': '部分行有误，未导入任何内容。',
    en: 'Some rows are not valid; nothing was imported.',
  },
  too_many_posters: { 'zh-CN': '海报数量过多，请缩小范围。', en: 'Too many posters; narrow the selection.' },
  carrier_not_bound: {
    'zh-CN': '您的账号未绑定这辆车，不能为其登记。',
    en: 'Your account is not bound to this vehicle.',
  },
  staff_client_invalid: {
    'zh-CN': '该账号不是本单位的工作人员。',
    en: 'This is not a staff account of the operator.',
  },
  code_malformed: {
    'zh-CN': '这不是乘车登记码，请扫描车内张贴的乘车码。',
    en: 'This is not a ride code. Scan the code posted inside the vehicle.',
  },
  code_forged: {
    'zh-CN': '乘车码校验失败，可能是伪造的二维码，请告知司乘人员。',
    en: 'The ride code failed its check and may be fake; please tell the staff.',
  },
  code_carrier_unknown: {
    'zh-CN': '乘车码对应的车辆不存在，请告知司乘人员。',
    en: 'The ride code names an unknown vehicle; please tell the staff.',
  },
  code_carrier_retired: {
    'zh-CN': '该车辆已停用，乘车码失效，请告知司乘人员。',
    en: 'This vehicle is retired and its code no longer works; please tell the staff.',
  },
  code_revoked: {
    'zh-CN': '此乘车码已作废（已更换新码），请扫描车内最新张贴的乘车码。',
    en: 'This ride code was revoked (replaced by a newer poster). Scan the newest code in the vehicle.',
  },
  code_key_retired: {
    'zh-CN': '此乘车码已停用，请扫描车内最新张贴的乘车码，或告知司乘人员联系运营方更换新码。',
    en: 'This ride code is no longer valid. Scan the newest code in the vehicle, or ask the staff to have the poster replaced.',
  },

  scan_time_in_future: {
    'zh-CN': '手机时间不准确，请校准时间后重新扫码。',
    en: "Your phone's clock is wrong; set the time and scan again.",
  },
  scan_too_old: {
    'zh-CN': '离线保存的扫码已超过 24 小时，无法补登。',
    en: 'The saved scan is older than 24 hours and can no longer be registered.',
  },
  client_ride_id_reused: {
    'zh-CN': '登记编号冲突，请重新扫码。',
    en: 'Registration number conflict; please scan again.',
  },
  consent_version_outdated: {
    'zh-CN': '告知内容已更新，请阅读新版本后再确认。',
    en: 'The consent text has changed; please read the new version and confirm again.',
  },
  passenger_not_found: {
    'zh-CN': '未找到您的登记信息，请重新扫码。',
    en: 'Your registration was not found; scan again.',
  },
  phone_code_invalid: {
    'zh-CN': '获取手机号失败，请重试或改用短信验证码。',
    en: 'Could not get your phone number; retry or use an SMS code.',
  },
  otp_invalid: { 'zh-CN': '验证码错误。', en: 'The code is wrong.' },
  otp_expired: { 'zh-CN': '验证码已过期，请重新获取。', en: 'The code has expired; ask for a new one.' },
  otp_attempts_exceeded: {
    'zh-CN': '验证码错误次数过多，请重新获取。',
    en: 'Too many wrong codes; ask for a new one.',
  },
  otp_rate_limited: {
    'zh-CN': '获取验证码过于频繁，请稍后再试。',
    en: 'Too many codes requested; please wait a moment.',
  },

  case_not_found: { 'zh-CN': '病例不存在。', en: 'No such case.' },
  case_subject_unknown: {
    'zh-CN': '未找到与病例匹配的登记人员。',
    en: 'No registered person matches the case.',
  },
  case_window_invalid: { 'zh-CN': '传染期时间段无效。', en: 'The infectious window is invalid.' },
  case_closed: { 'zh-CN': '病例已结案。', en: 'The case is closed.' },
  too_many_contacts: { 'zh-CN': '接触者过多，请缩小时间范围。', en: 'Too many contacts; narrow the window.' },
  status_token_malformed: {
    'zh-CN': '这不是健康码，请扫描乘客“健康状态”页上的二维码。',
    en: "This is not a health code. Scan the QR on the passenger's Health status page.",
  },
  phone_required: {
    'zh-CN': '还没有已验证的手机号，请填写手机号或先验证。',
    en: 'No verified phone number is on file: type your number or verify one first.',
  },
  sign_in_failed: {
    'zh-CN': '用户名、密码或动态验证码错误。',
    en: 'Wrong username, password or one-time code.',
  },
  sign_in_locked: {
    'zh-CN': '登录失败次数过多，账号已临时锁定，请稍后再试。',
    en: 'Too many failed sign-ins: the account is locked for a while.',
  },
  refresh_invalid: {
    'zh-CN': '登录已失效，请重新登录。',
    en: 'The sign-in has expired; sign in again.',
  },
  official_not_found: { 'zh-CN': '找不到该工作人员账号。', en: 'No such official.' },
  username_taken: { 'zh-CN': '该用户名已被使用。', en: 'This username is taken.' },
  reveal_grant_required: {
    'zh-CN': '查看完整身份信息需经审批，请先提交查看申请。',
    en: 'Unmasked identities need an approved reveal request.',
  },
  reveal_grant_expired: {
    'zh-CN': '查看授权已过期，请重新申请。',
    en: 'The reveal grant has expired; ask again.',
  },
  reveal_request_refused: { 'zh-CN': '查看申请已被拒绝。', en: 'The reveal request was refused.' },
  approval_by_requester: {
    'zh-CN': '不能审批自己提交的申请，请由其他负责人审批。',
    en: 'Another official must decide your own request.',
  },
  reveal_request_not_found: { 'zh-CN': '找不到该查看申请。', en: 'No such reveal request.' },
  reveal_request_decided: { 'zh-CN': '该申请已处理。', en: 'This request was already decided.' },
  reveal_request_expired: {
    'zh-CN': '该申请已超时失效，请申请人重新提交。',
    en: 'This request lapsed; the requester must ask again.',
  },
  status_token_forged: {
    'zh-CN': '健康码校验失败，可能是伪造的。',
    en: 'The health code failed its check and may be fake.',
  },
  status_token_expired: {
    'zh-CN': '健康码已过期（可能是截图），请乘客打开实时页面。',
    en: 'The health code has expired (maybe a screenshot); ask for the live screen.',
  },
} as const satisfies Record<ErrorCode, Bilingual>;

export const CLIENT_ERROR_MESSAGES = {
  network_error: {
    'zh-CN': '网络不可用，请检查网络后重试。',
    en: 'No network connection. Check your network and try again.',
  },
  login_unavailable: {
    'zh-CN': '无法登录：请在超级应用内打开本小程序。',
    en: 'Cannot sign in: open this mini-program inside the super-app.',
  },
  bad_response: {
    'zh-CN': '服务器返回了无法识别的内容，请稍后重试。',
    en: 'The server sent an unexpected reply; retry later.',
  },
  unknown_error: { 'zh-CN': '出错了，请重试。', en: 'Something went wrong; please try again.' },
} as const satisfies Record<ClientErrorCode, Bilingual>;

const ALL: Record<AppErrorCode, Bilingual> = { ...SERVER_ERROR_MESSAGES, ...CLIENT_ERROR_MESSAGES };

export function isKnownErrorCode(code: unknown): code is AppErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ALL, code);
}

export function errorMessage(code: AppErrorCode, lang: Lang = getLang()): string {
  return ALL[code][lang];
}
