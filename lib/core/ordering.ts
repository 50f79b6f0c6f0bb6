/**
 * Compares strings by UTF-16 code unit, as Go's sort.Strings and encoding/json's map
 * key order do for the ASCII names Kubernetes allows; localeCompare would not match
 * what Velero writes.
 */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
