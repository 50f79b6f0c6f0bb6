const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;

/**
 * A byte count as Kubernetes writes `resource.NewQuantity(n, resource.BinarySI)`:
 * below 1024 a plain number, otherwise the largest power-of-1024 suffix that divides
 * it exactly (`1073741824` is `1Gi`, `1536` stays `1536`). Velero stores a snapshot's
 * restore size on its VolumeSnapshot this way.
 */
export function formatBinaryQuantity(bytes: number | bigint): string {
  let value = BigInt(bytes);
  const negative = value < 0n;
  if (negative) value = -value;
  let exponent = 0;
  if (value >= 1024n) {
    while (exponent < BINARY_SUFFIXES.length - 1 && value % 1024n === 0n) {
      value /= 1024n;
      exponent += 1;
    }
  }
  return `${negative ? '-' : ''}${value}${BINARY_SUFFIXES[exponent]}`;
}
