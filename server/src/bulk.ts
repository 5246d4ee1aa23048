/**
 * Storage-level writes for bulk data generation (the benchmark's city, test fixtures): they bypass the services'
 * rules on purpose, so nothing in the server calls them. Exported as `bulk` from the package.
 */
export { ridePartitionName } from './db/partitions.js';
export { insertMarks, insertNotifications } from './modules/notifications/notifications.repository.js';
export { newPassengerKey, sealIdentity } from './modules/passengers/identity.js';
export { ensureRidePartition, listRidePartitions } from './modules/rides/rides.repository.js';
