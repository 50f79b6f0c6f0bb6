/**
 * The glob dialect Velero uses for include/exclude lists (github.com/gobwas/glob,
 * compiled without separators): `*` any run of characters, `?` one character,
 * `[abc]` / `[!abc]` one of (not) the listed characters, `[a-z]` / `[!a-z]` one
 * character in (not in) a single range, `{a,b}` alternatives, `\` escapes.
 *
 * Quirks kept on purpose, because Velero has them: a bracket holds either one range or a
 * list of characters, never both (`[a-z0-9]` does not compile), and a pattern that does
 * not compile matches nothing.
 */

const REGEX_SYNTAX = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/']);
const CLASS_SYNTAX = new Set(['\\', ']', '[', '^', '-']);

class GlobSyntaxError extends Error {}

function literal(c: string): string {
  return REGEX_SYNTAX.has(c) ? `\\${c}` : c;
}

function classLiteral(c: string): string {
  return CLASS_SYNTAX.has(c) ? `\\${c}` : c;
}

/** Translates glob characters (code points) into a regular expression source. */
class Translator {
  private i = 0;

  constructor(private readonly chars: readonly string[]) {}

  translate(): string {
    return this.sequence(false);
  }

  private sequence(inAlternatives: boolean): string {
    let out = '';
    while (this.i < this.chars.length) {
      const c = this.chars[this.i]!;
      if (inAlternatives && (c === ',' || c === '}')) return out;
      this.i++;
      switch (c) {
        case '\\': {
          // gobwas drops a trailing lone backslash rather than failing.
          const next = this.chars[this.i++];
          if (next !== undefined) out += literal(next);
          break;
        }
        case '*':
          out += '.*';
          break;
        case '?':
          out += '.';
          break;
        case '[':
          out += this.bracket();
          break;
        case '{':
          out += this.alternatives();
          break;
        default:
          out += literal(c);
      }
    }
    if (inAlternatives) throw new GlobSyntaxError('unclosed {');
    return out;
  }

  private alternatives(): string {
    const options: string[] = [];
    for (;;) {
      options.push(this.sequence(true));
      const closer = this.chars[this.i++];
      if (closer === '}') return `(?:${options.join('|')})`;
    }
  }

  private bracket(): string {
    let negated = false;
    if (this.chars[this.i] === '!') {
      negated = true;
      this.i++;
    }
    const first = this.chars[this.i];
    if (first === undefined) throw new GlobSyntaxError('unclosed [');
    if (this.chars[this.i + 1] === '-') {
      const hi = this.chars[this.i + 2];
      if (hi === undefined || this.chars[this.i + 3] !== ']') throw new GlobSyntaxError('bad range');
      this.i += 4;
      const lo = first;
      if ((lo.codePointAt(0) ?? 0) > (hi.codePointAt(0) ?? 0)) return negated ? '[^]' : '[]';
      return `[${negated ? '^' : ''}${classLiteral(lo)}-${classLiteral(hi)}]`;
    }
    let members = '';
    for (;;) {
      const c = this.chars[this.i++];
      if (c === undefined) throw new GlobSyntaxError('unclosed [');
      if (c === ']') break;
      if (c === '\\') {
        const escaped = this.chars[this.i++];
        if (escaped === undefined) throw new GlobSyntaxError('unclosed [');
        members += classLiteral(escaped);
        continue;
      }
      members += classLiteral(c);
    }
    return `[${negated ? '^' : ''}${members}]`;
  }
}

// Patterns come from backup specs, a handful each, so compiled ones are simply kept.
const compiled = new Map<string, RegExp | null>();

/** Compiles a Velero glob, or returns undefined when Velero could not compile it either. */
export function compileGlob(pattern: string): RegExp | undefined {
  let re = compiled.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(`^${new Translator(Array.from(pattern)).translate()}$`, 'su');
    } catch {
      re = null;
    }
    compiled.set(pattern, re);
  }
  return re ?? undefined;
}

/** Whether `value` matches the glob `pattern` (false when the pattern does not compile). */
export function globMatches(pattern: string, value: string): boolean {
  return compileGlob(pattern)?.test(value) ?? false;
}

/** Whether a namespace pattern uses wildcards (`*`, `?`, `[`), as Velero decides it. */
export function hasWildcard(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}
