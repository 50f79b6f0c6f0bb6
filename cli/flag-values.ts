/** `a, b,c` → `['a', 'b', 'c']`; undefined when the flag was not given. */
export const list = (text?: string): string[] | undefined => text?.split(',').map((s) => s.trim()).filter(Boolean);
