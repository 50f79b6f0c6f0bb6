/**
 * What must never reach a log line or an error message shown to a caller, decided by
 * what a value is rather than by what its field happens to be called: a field named
 * `key` holds an S3 object key far more often than a private key, and a ConfigMap's
 * `data` is no secret, while a bearer token is one wherever it turns up (a header, an
 * error message, a nested field). Field names are used only where they are
 * unambiguous (SECRET_FIELD_NAMES).
 *
 * The logger runs every field through `redact`; configuration errors use
 * `isSecretFieldName` to decide whether a wrong value may be echoed back.
 */

/** What a redacted value is replaced with. */
const REDACTED = '[redacted]';
const REDACTED_KUBECONFIG = '[redacted kubeconfig]';

/**
 * Field names whose values are secret whatever they hold. Kept short on purpose: a
 * name belongs here only if it never names anything else in Skiff, Kubernetes or AWS.
 * `accessKeyId` is here because the object store's key id is treated as a credential
 * like its secret. Compared without regard to case (`Authorization` is a header).
 */
const SECRET_FIELD_NAMES = new Set(
  [
    'authorization',
    'password',
    'token',
    'bearerTokens',
    'hmacSecret',
    'kubeconfig',
    'accessKeyId',
    'secretAccessKey',
    'sessionToken',
    // Only Kubernetes Secrets have stringData; one given without its kind is still secret.
    'stringData',
  ].map((name) => name.toLowerCase()),
);

/** Whether a field of this name holds a secret, whatever its value looks like. */
export function isSecretFieldName(name: string): boolean {
  return SECRET_FIELD_NAMES.has(name.toLowerCase());
}

/**
 * Values resolved from configured secret references (lib/config/resolve-secret.ts):
 * known secrets are replaced wherever they appear, also inside longer text such as a
 * remote system's error message. Shorter values are not remembered, as replacing every
 * occurrence of a short word would garble the logs; the shapes below still apply.
 */
const MIN_REMEMBERED_LENGTH = 8;
/** Rotated secrets add values; the oldest are forgotten beyond this many. */
const MAX_REMEMBERED = 256;
const knownSecrets = new Set<string>();

/**
 * Remembers a resolved secret value so that `redact` and `redactText` replace it
 * wherever it appears. Values shorter than 8 characters are not remembered.
 */
export function rememberSecret(value: string): void {
  if (value.length < MIN_REMEMBERED_LENGTH || knownSecrets.has(value)) return;
  knownSecrets.add(value);
  if (knownSecrets.size > MAX_REMEMBERED) knownSecrets.delete(knownSecrets.values().next().value!);
}

/**
 * `Bearer <token>`, as in an Authorization header or an error message quoting one. The
 * token must look like one (12+ characters, as API tokens and JWTs are),
 * so prose such as "a valid bearer token" stays readable.
 */
const BEARER = /\b(Bearer)\s+(?=[A-Za-z0-9\-._~+/]{12,})[A-Za-z0-9\-._~+/]+=*/gi;
/** A JSON Web Token (Kubernetes service account tokens are JWTs): header.payload.signature, base64url. */
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
/**
 * A PEM private key block of any type (RSA, EC, PKCS#8, encrypted), up to its END line
 * or, when cut short, to the end of the text. Certificates are public and stay.
 */
const PRIVATE_KEY = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g;
/**
 * Base64 of a PEM block (`LS0tLS1CRUdJTi` is "-----BEGIN"), as kubeconfigs and Secrets
 * carry keys; decoded to tell a private key from a certificate.
 */
const BASE64_PEM = /LS0tLS1CRUdJTi[A-Za-z0-9+/]*={0,2}/g;
/**
 * The fields that make a kubeconfig (YAML or JSON) a credential: its client key and
 * certificate, or a user's token, as a key of its own (at a line's start or after `{`
 * or `,`) with a token-like value, so that neither "invalid token: expired" nor a
 * schema's "{token: ...}" is taken for one. A text holding one is dropped whole, since
 * the rest of the document (auth-provider configs, passwords) may be secret too.
 */
const KUBECONFIG_CREDENTIAL = /client-key-data|client-certificate-data|(?:^\s*(?:-\s+)?|[{,]\s*)"?token"?\s*:\s*"?[A-Za-z0-9\-._~+/=]{8,}/m;

/**
 * A text with every secret it carries replaced: remembered secret values, bearer
 * tokens, JWTs and private keys become `[redacted]`; a kubeconfig becomes
 * `[redacted kubeconfig]` as a whole. Anything else is returned unchanged.
 */
export function redactText(text: string): string {
  if (KUBECONFIG_CREDENTIAL.test(text)) return REDACTED_KUBECONFIG;
  let result = text;
  for (const secret of knownSecrets) {
    if (result.includes(secret)) result = result.split(secret).join(REDACTED);
  }
  return result
    .replace(PRIVATE_KEY, REDACTED)
    .replace(BASE64_PEM, (encoded) => (Buffer.from(encoded, 'base64').toString('latin1').includes('PRIVATE KEY-----') ? REDACTED : encoded))
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(JWT, REDACTED);
}

/** Nesting kept in a log field; deeper values are summarised, as log lines should stay short. */
const MAX_DEPTH = 4;
/** Cause chains are followed this far. */
const MAX_CAUSES = 3;

export interface RedactOptions {
  /** Keep errors' stack traces (redacted like any text); for local debugging. */
  stacks?: boolean;
}

/**
 * A copy of `value` safe to log or show: strings pass through `redactText`; fields
 * with a secret name (isSecretFieldName) become `[redacted]`; a Kubernetes Secret
 * keeps its apiVersion, kind, name and namespace only, with `data: [redacted]` (a
 * SecretList's items likewise); an Error becomes `{ name, message, cause?, stack? }`;
 * a Date its ISO text; bytes their length. Objects deeper than 4 levels become `{...}`,
 * arrays `[...]`.
 */
export function redact(value: unknown, options: RedactOptions = {}): unknown {
  return redactValue(value, options, 0);
}

function redactValue(value: unknown, options: RedactOptions, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value instanceof Error) return redactError(value, options, depth, 0);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return depth < MAX_DEPTH ? value.map((item) => redactValue(item, options, depth + 1)) : '[...]';
  if (value && typeof value === 'object') {
    if (depth >= MAX_DEPTH) return '{...}';
    const record = value as Record<string, unknown>;
    if (record.kind === 'Secret') return secretSummary(record);
    if (record.kind === 'SecretList' && Array.isArray(record.items)) {
      // A list's items carry no kind of their own.
      const { items, ...list } = record;
      return { ...redactFields(list, options, depth), items: items.map((item) => secretSummary(item)) };
    }
    return redactFields(record, options, depth);
  }
  return value;
}

function redactFields(record: Record<string, unknown>, options: RedactOptions, depth: number): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(record).map(([name, field]) => [name, isSecretFieldName(name) ? REDACTED : redactValue(field, options, depth + 1)]),
  );
}

/**
 * What may be said of a Secret: which one it is. Its data and stringData are dropped
 * (a `data: [redacted]` says there was some), and its annotations too (kubectl's
 * last-applied-configuration holds the whole object).
 */
function secretSummary(secret: unknown): Record<string, unknown> {
  const { apiVersion, kind, metadata, data, stringData } = (secret ?? {}) as {
    apiVersion?: unknown;
    kind?: unknown;
    metadata?: { name?: unknown; namespace?: unknown };
    data?: unknown;
    stringData?: unknown;
  };
  return {
    ...(apiVersion !== undefined ? { apiVersion } : {}),
    kind: kind ?? 'Secret',
    metadata: { name: metadata?.name, namespace: metadata?.namespace },
    ...(data !== undefined || stringData !== undefined ? { data: REDACTED } : {}),
  };
}

function redactError(error: Error, options: RedactOptions, depth: number, causes: number): Record<string, unknown> {
  const cause = error.cause;
  return {
    name: error.name,
    message: redactText(error.message),
    ...(options.stacks && error.stack ? { stack: redactText(error.stack) } : {}),
    ...(cause !== undefined && causes < MAX_CAUSES
      ? { cause: cause instanceof Error ? redactError(cause, options, depth, causes + 1) : redactValue(cause, options, depth + 1) }
      : {}),
  };
}
