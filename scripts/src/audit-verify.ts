import { verifyAuditChain } from '@ridetrace/server';
import { withDatabase } from './db.js';

/** `pnpm audit:verify`: recomputes the audit hash chain; exit 1 naming the first broken entry. */
await withDatabase(async (db) => {
  const report = await verifyAuditChain(db);
  if (report.ok) {
    console.log(`audit chain intact: ${report.entries} entries`);
  } else {
    console.error(
      `audit chain BROKEN at entry seq=${report.firstBroken!.seq} (${report.firstBroken!.reason} mismatch)`,
    );
    process.exitCode = 1;
  }
});
