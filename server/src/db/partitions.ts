/** The table that holds one day's rides (a partition of `rides`). */
export function ridePartitionName(day: string): string {
  return `rides_${day.replaceAll('-', '')}`;
}
