/** `a, b,c` → `['a', 'b', 'c']`; undefined when the flag was not given. */
export const list = (text?: string): string[] | undefined => text?.split(',').map((s) => s.trim()).filter(Boolean);

/** A bool flag written as a string (`--snapshot-volumes=false`); undefined when not given. */
export const bool = (text?: string): boolean | undefined => (text === undefined ? undefined : text === 'true');
