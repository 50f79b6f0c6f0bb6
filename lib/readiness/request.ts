import { z } from 'zod';
import { ValidationError } from '../core/errors';
import { fieldIssuesFromZod } from '../core/zod-issues';

/**
 * What a caller may ask of the readiness check, over HTTP or by direct invocation.
 * `namespaces` narrows the PVCs looked at and the namespaces the access check asks
 * about; by default both follow the cluster's schedules (all namespaces when any
 * schedule backs up all of them or a pattern).
 */

const namespaceName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { error: 'must be a namespace name (DNS-1123 label)' });

/** The body of a direct invocation: `{"cluster": "prod-eu", "namespaces": ["shop"]}`. */
export const readinessInvocationSchema = z.strictObject({
  cluster: z.string().min(1, { error: 'name a configured cluster' }),
  namespaces: z.array(namespaceName).min(1).optional(),
});
export type ReadinessInvocation = z.infer<typeof readinessInvocationSchema>;

/** The query of `GET /clusters/{name}/readiness`: `?namespaces=shop,blog`. */
export const readinessQuerySchema = z.strictObject({
  namespaces: z
    .string()
    .transform((text) => text.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(namespaceName).min(1, { error: 'name at least one namespace, comma-separated' }))
    .optional(),
});

/**
 * Parses a direct invocation's event.
 *
 * @throws ValidationError naming each wrong field.
 */
export function parseReadinessInvocation(event: unknown): ReadinessInvocation {
  const parsed = readinessInvocationSchema.safeParse(event);
  if (!parsed.success) throw new ValidationError('readiness request', fieldIssuesFromZod(parsed.error));
  return parsed.data;
}

/**
 * Parses the HTTP query.
 *
 * @throws ValidationError naming each wrong parameter.
 */
export function parseReadinessQuery(query: Record<string, string | undefined> | undefined): { namespaces?: string[] } {
  const parsed = readinessQuerySchema.safeParse(query ?? {});
  if (!parsed.success) throw new ValidationError('query', fieldIssuesFromZod(parsed.error));
  return parsed.data;
}
