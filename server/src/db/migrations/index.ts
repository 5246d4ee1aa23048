import type { Migration } from 'kysely';
import * as m0001 from './0001_init.js';
import * as m0002 from './0002_tracing.js';
import * as m0003 from './0003_lifecycle.js';
import * as m0004 from './0004_notifications_claim.js';
import * as m0005 from './0005_audit_append.js';
import * as m0006 from './0006_notifications_claim_fn.js';
import * as m0007 from './0007_insert_rides_fn.js';
import * as m0008 from './0008_insert_rides_packed.js';
import * as m0009 from './0009_trace_contacts_fn.js';
import * as m0010 from './0010_id_document_types.js';
import * as m0011 from './0011_verified_identity.js';
import * as m0012 from './0012_repeat_scans.js';
import * as m0013 from './0013_officials.js';
import * as m0014 from './0014_access_log.js';
import * as m0015 from './0015_reveal_requests.js';
import * as m0016 from './0016_secondary_notifications.js';
import * as m0017 from './0017_trace_contact_flags.js';
import * as m0018 from './0018_passenger_link_secret.js';
import * as m0019 from './0019_record_lifetimes.js';
import * as m0020 from './0020_programme.js';
import * as m0021 from './0021_code_key_rotation.js';
import * as m0022 from './0022_ride_calendar.js';
import * as m0023 from './0023_index_key_rotation.js';
import * as m0024 from './0024_trace_day_rides_fn.js';
import * as m0025 from './0025_console_search.js';
import * as m0026 from './0026_operator_accounts.js';
import * as m0027 from './0027_delivery_receipts.js';

/** Every migration, in order. Listed statically so bundlers, tsx and vitest all see the same set. */
export const migrations: Record<string, Migration> = {
  '0001_init': m0001,
  '0002_tracing': m0002,
  '0003_lifecycle': m0003,
  '0004_notifications_claim': m0004,
  '0005_audit_append': m0005,
  '0006_notifications_claim_fn': m0006,
  '0007_insert_rides_fn': m0007,
  '0008_insert_rides_packed': m0008,
  '0009_trace_contacts_fn': m0009,
  '0010_id_document_types': m0010,
  '0011_verified_identity': m0011,
  '0012_repeat_scans': m0012,
  '0013_officials': m0013,
  '0014_access_log': m0014,
  '0015_reveal_requests': m0015,
  '0016_secondary_notifications': m0016,
  '0017_trace_contact_flags': m0017,
  '0018_passenger_link_secret': m0018,
  '0019_record_lifetimes': m0019,
  '0020_programme': m0020,
  '0021_code_key_rotation': m0021,
  '0022_ride_calendar': m0022,
  '0023_index_key_rotation': m0023,
  '0024_trace_day_rides_fn': m0024,
  '0025_console_search': m0025,
  '0026_operator_accounts': m0026,
  '0027_delivery_receipts': m0027,
};
