import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Page, PageQuery, Strict } from './common.js';

/**
 * Why the health authority read a passenger's data: as the subject of a case, as a co-passenger found by tracing
 * a case, or to send them an exposure notice.
 */
export const ACCESS_PURPOSES = ['case_investigation', 'contact_tracing', 'notification'] as const;
export type AccessPurpose = (typeof ACCESS_PURPOSES)[number];

/** One read of my data as I see it: when, which agency, why; never the official, the case or its subject. */
export const AccessLogEntrySchema = Type.Object({
  at: DateTime('when the health authority read my data (the first read of the day for one case and purpose)'),
  agency: Type.String({ description: 'the health agency that read it' }),
  purpose: Type.Union(
    ACCESS_PURPOSES.map((p) => Type.Literal(p)),
    { description: ACCESS_PURPOSES.join(', ') },
  ),
});
export type AccessLogEntry = Static<typeof AccessLogEntrySchema>;

export const AccessLogQuerySchema = Type.Object({ ...PageQuery }, Strict);
export type AccessLogQuery = Static<typeof AccessLogQuerySchema>;

/** Newest first. */
export const AccessLogPageSchema = Page(AccessLogEntrySchema);
export type AccessLogPage = Static<typeof AccessLogPageSchema>;
