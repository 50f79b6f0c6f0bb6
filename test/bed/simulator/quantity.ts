/**
 * Kubernetes resource quantities ("1Gi", "500M", "1.5e9") to bytes and back. The
 * simulator needs bytes for its ledger (clone split accounting, restore size checks)
 * and must write PV capacities the way the real provisioner does (binary suffixes
 * when they fit exactly).
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Bytes of a quantity, rounded up (a volume is never smaller than asked); undefined if malformed. */
export function parseQuantity(text: string | number | undefined | null): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? Math.ceil(text) : undefined;
  if (typeof text !== 'string') return undefined;
  const match = /^([+]?[0-9]*\.?[0-9]+)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, number, exponent, suffix] = match;
  const value = Number(number);
  let bytes: number;
  if (exponent) bytes = value * 10 ** Number(exponent.slice(1));
  else if (suffix && suffix in BINARY) bytes = value * BINARY[suffix]!;
  else bytes = value * DECIMAL[suffix ?? '']!;
  if (!Number.isFinite(bytes)) return undefined;
  // Float noise (1.1 * 2**30) must not push an exact size one byte up.
  const rounded = Math.round(bytes);
  return Math.abs(bytes - rounded) < 1e-6 ? rounded : Math.ceil(bytes);
}

/** The canonical text of a byte count: the largest binary suffix that divides it, else plain bytes. */
export function formatBytes(bytes: number): string {
  for (const suffix of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) {
    const unit = BINARY[suffix]!;
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}
