import { ValidationError } from '../lib/core/errors';

/**
 * Velero's optional bool flags (pkg/cmd/util/flag/optional_bool.go, pflag's NoOptDefVal
 * "true"): `--snapshot-volumes` alone means true, `--snapshot-volumes=false` false, and
 * the value is read by Go's strconv.ParseBool. A separate word is never the flag's value
 * (`--snapshot-volumes false` is the switch and then a word), so these flags are
 * declared to commander as switches with a hidden `--no-` twin and the `=value` form is
 * rewritten here, before commander reads the line.
 */

/** The optional bool flags of every command. */
export const OPTIONAL_BOOL_FLAGS: readonly string[] = ['snapshot-volumes', 'include-cluster-resources', 'restore-volumes'];

const TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/**
 * A flag value as Go's strconv.ParseBool reads it. Throws a ValidationError naming the
 * flag and what it accepts for anything else.
 */
export function parseBoolFlag(flag: string, value: string): boolean {
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  throw new ValidationError('command line', [
    { path: `--${flag}`, message: `${JSON.stringify(value)} is not a bool: use true or false (also 1, t, T, TRUE, True, 0, f, F, FALSE, False), or the flag alone for true` },
  ]);
}

/**
 * The command line with each `--<flag>=<value>` of the optional bool `flags` made
 * `--<flag>` or `--no-<flag>`; words after `--` are left alone. Throws a
 * ValidationError for a value that is not a bool.
 */
export function optionalBoolArgs(args: readonly string[], flags: readonly string[]): string[] {
  const end = args.indexOf('--');
  return args.map((arg, i) => {
    if (end >= 0 && i > end) return arg;
    const match = /^--([a-z-]+)=(.*)$/s.exec(arg);
    if (!match || !flags.includes(match[1]!)) return arg;
    return parseBoolFlag(match[1]!, match[2]!) ? `--${match[1]}` : `--no-${match[1]}`;
  });
}
