/**
 * Stable error codes of the RideTrace API. Every error reply is `{ error: { code, message } }`;
 * clients switch on `code`, never on `message` (which is for humans and may change).
 */
export const ERRORS = {
  // Generic request problems
  validation_failed: { status: 400, message: 'The request does not match the schema.' },
  malformed_json: { status: 400, message: 'The request body is not valid JSON.' },
  unsupported_media_type: { status: 415, message: 'Send the body as application/json.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  route_not_found: { status: 404, message: 'No such route.' },
  method_not_allowed: { status: 405, message: 'This method is not allowed here.' },
  rate_limited: { status: 429, message: 'Too many requests; retry later.' },
  internal_error: { status: 500, message: 'Something went wrong on our side.' },
  service_unavailable: { status: 503, message: 'The service is temporarily unavailable; retry later.' },
  overloaded: { status: 503, message: 'The server is overloaded; retry after the Retry-After delay.' },
  upstream_unavailable: { status: 502, message: 'An upstream service did not answer; retry later.' },
  superapp_unavailable: { status: 503, message: 'The super-app service did not answer; retry later.' },
  sms_unavailable: { status: 503, message: 'The SMS service did not answer; retry later.' },
  programme_ended: {
    status: 503,
    message:
      'The ride registration programme has ended: nothing new is registered, and the registered data is destroyed.',
  },

  // Authentication and authorisation
  auth_required: { status: 401, message: 'A bearer token is required.' },
  token_invalid: { status: 401, message: 'The bearer token is invalid.' },
  token_expired: { status: 401, message: 'The bearer token has expired.' },
  forbidden: { status: 403, message: 'This token may not do that.' },
  csrf_invalid: {
    status: 403,
    message: 'A change made with the session cookie needs the X-CSRF-Token header of that session.',
  },
  login_code_invalid: { status: 401, message: 'The super-app login code is invalid or used.' },
  invalid_client: { status: 401, message: 'Unknown client or wrong secret.' },
  sign_in_failed: { status: 401, message: 'Wrong username, password or one-time code.' },
  sign_in_locked: {
    status: 429,
    message: 'Too many failed sign-ins: this account is locked; retry after the Retry-After delay.',
  },
  refresh_invalid: { status: 401, message: 'The refresh token is invalid, used or expired; sign in again.' },

  // Operators, clients
  operator_not_found: { status: 404, message: 'No such operator.' },
  operator_exists: { status: 409, message: 'An operator with this id exists.' },
  client_not_found: { status: 404, message: 'No such client.' },
  official_not_found: { status: 404, message: 'No such official.' },
  username_taken: { status: 409, message: 'An official with this username exists.' },

  // Carriers and codes
  carrier_not_found: { status: 404, message: 'No such carrier.' },
  csv_invalid: { status: 400, message: 'The file cannot be read as a carriers CSV.' },
  csv_rows_invalid: { status: 400, message: 'Some rows are not valid; nothing was imported.' },
  too_many_posters: { status: 400, message: 'Too many posters for one file; narrow the selection.' },
  carrier_retired: { status: 409, message: 'The carrier is retired.' },
  carrier_plate_taken: { status: 409, message: 'The operator already has a carrier with this plate.' },
  carrier_not_bound: { status: 403, message: 'This staff account is not bound to the carrier.' },
  staff_client_invalid: { status: 400, message: 'The client is not a staff account of this operator.' },
  code_malformed: { status: 400, message: 'This is not a RideTrace code.' },
  code_forged: { status: 400, message: 'The code signature is invalid.' },
  code_carrier_unknown: { status: 404, message: 'The code names a carrier that does not exist.' },
  code_carrier_retired: { status: 410, message: 'The carrier of this code is retired.' },
  code_revoked: { status: 410, message: 'This code was replaced by a newer poster.' },
  code_key_retired: {
    status: 410,
    message: 'This poster was signed with a retired key; the operator must put up a new poster.',
  },

  // Rides and passengers
  scan_time_in_future: { status: 400, message: 'scannedAt lies in the future.' },
  scan_too_old: { status: 400, message: 'scannedAt is older than the accepted offline window.' },
  client_ride_id_reused: { status: 409, message: 'This clientRideId was already used for another carrier.' },
  consent_version_outdated: { status: 409, message: 'Consent must be given to the current consent text.' },
  passenger_not_found: { status: 404, message: 'No such passenger.' },

  // Phone verification
  phone_code_invalid: { status: 400, message: 'The super-app phone-number code is invalid or used.' },
  otp_invalid: { status: 400, message: 'The one-time code is wrong.' },
  otp_expired: {
    status: 400,
    message: 'The one-time code has expired or was never sent; ask for a new one.',
  },
  otp_attempts_exceeded: { status: 400, message: 'Too many wrong codes; ask for a new one.' },
  otp_rate_limited: { status: 429, message: 'Too many codes requested; retry after the Retry-After delay.' },
  phone_required: {
    status: 400,
    message: 'No verified phone number is on file: send the phone number, or verify one first.',
  },

  // Cases, tracing, status
  case_not_found: { status: 404, message: 'No such case.' },
  case_subject_unknown: { status: 404, message: 'No registered person matches the case subject.' },
  case_window_invalid: {
    status: 400,
    message: 'The infectious window is invalid (order, ≤ 30 days, not in the future).',
  },
  case_closed: { status: 409, message: 'The case is closed.' },
  too_many_contacts: {
    status: 422,
    message: 'Too many degree-1 contacts for a degree-2 trace; narrow the window.',
  },
  // Four-eyes reveal
  reveal_grant_required: {
    status: 403,
    message:
      'Unmasked identities of this case need a reveal grant: ask for one (POST /v1/cases/{id}/reveal-requests) and wait for approval.',
  },
  reveal_grant_expired: { status: 403, message: 'Your reveal grant for this case has expired; ask again.' },
  reveal_request_refused: { status: 403, message: 'Your reveal request for this case was refused.' },
  approval_by_requester: {
    status: 403,
    message: 'A reveal request must be approved or refused by another official.',
  },
  reveal_request_not_found: { status: 404, message: 'No such reveal request.' },
  reveal_request_decided: { status: 409, message: 'This reveal request was already approved or refused.' },
  reveal_request_expired: {
    status: 409,
    message: 'This reveal request lapsed before anyone decided it; the requester must ask again.',
  },
  status_token_malformed: { status: 400, message: 'This is not a status token.' },
  status_token_forged: { status: 400, message: 'The status token signature is invalid.' },
  status_token_expired: { status: 400, message: 'The status token has expired; ask for a fresh one.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;
export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    /** csv_rows_invalid: the first problems (line, field, message) and how many there are in all. */
    problems?: { line: number; field: string; message: string }[];
    problemCount?: number;
  };
}
