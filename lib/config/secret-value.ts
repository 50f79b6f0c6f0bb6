import { z } from 'zod';

/**
 * Where a secret comes from. Inline strings are for local runs; a deployed Skiff
 * reads secrets from the environment, a mounted file, or AWS Secrets Manager so
 * that they never sit in the configuration file itself.
 */
export const secretValueSchema = z.union(
  [
    z.string().min(1),
    z.strictObject({ fromEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/) }),
    z.strictObject({ fromFile: z.string().min(1) }),
    z.strictObject({
      fromSecretsManager: z.string().min(1),
      /** A JSON key inside the secret's string, when the secret holds several values. */
      key: z.string().min(1).optional(),
    }),
  ],
  {
    error: () =>
      'expected a secret: an inline string, {fromEnv: VAR}, {fromFile: path} or {fromSecretsManager: arn, key?}',
  },
);

export type SecretValue = z.infer<typeof secretValueSchema>;

/** Names the source of a secret without revealing it, for /status and logs. */
export function describeSecretSource(secret: SecretValue): string {
  if (typeof secret === 'string') return 'inline';
  if ('fromEnv' in secret) return `env:${secret.fromEnv}`;
  if ('fromFile' in secret) return `file:${secret.fromFile}`;
  return `secretsmanager:${secret.fromSecretsManager}`;
}
