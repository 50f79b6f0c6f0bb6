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

const QUANTITY_MULTIPLIERS: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/**
 * The value of a Kubernetes quantity (k8s.io/apimachinery resource.ParseQuantity):
 * `10Gi`, `500M`, `1.5Ti`, `100m`, `1e9`. Undefined for text that is not one. A double:
 * exact for byte counts up to 8 PiB, and precise enough to compare sizes beyond.
 */
export function parseQuantity(text: string): number | undefined {
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(text.trim());
  if (!match) return undefined;
  const number = Number(match[1]);
  if (match[2] !== undefined) return number * 10 ** Number(match[2].slice(1));
  return number * QUANTITY_MULTIPLIERS[match[3] ?? '']!;
}
