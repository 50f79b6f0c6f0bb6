import type { z } from 'zod';
import type { FieldIssue } from './errors';

function dotted(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/**
 * Turns zod issues into FieldIssues under `prefix` (dotted paths such as
 * `spec.includedNamespaces.0`); an unknown field gets its own path, so the message
 * names the field that should not be there rather than its parent.
 */
export function fieldIssuesFromZod(error: z.ZodError, prefix = ''): FieldIssue[] {
  const join = (rest: string) => (prefix && rest ? `${prefix}.${rest}` : prefix || rest);
  return error.issues.map((issue) => {
    const path = dotted(issue.path);
    if (issue.code === 'unrecognized_keys' && issue.keys.length === 1) {
      return { path: join(path ? `${path}.${issue.keys[0]}` : issue.keys[0]!), message: issue.message };
    }
    return { path: join(path), message: issue.message };
  });
}
