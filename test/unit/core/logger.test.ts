import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveSecret } from '../../../lib/config';
import { logger } from '../../../lib/core/logger';
import { forConfigMap, forSecret } from '../../builders';

/**
 * What the logger writes, line by line as parsed JSON, read from process.stderr where
 * every line goes (stdout stays free for a CLI's output).
 */
let written: string[] = [];
beforeEach(() => {
  written = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => {
    throw new Error('the logger wrote to stdout');
  });
});
afterEach(() => vi.restoreAllMocks());

function logLine(fields: Record<string, unknown>): { text: string; line: Record<string, any> } {
  logger.info('what happened', fields);
  const text = written.join('');
  return { text, line: JSON.parse(text.trim().split('\n').at(-1)!) };
}

const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a3ViZS1zeXN0ZW06c2tpZmYifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const KEY_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7';
const PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----\n${KEY_BODY}\n-----END PRIVATE KEY-----\n`;
const EC_PRIVATE_KEY = `-----BEGIN EC PRIVATE KEY-----\n${KEY_BODY}\n-----END EC PRIVATE KEY-----\n`;
const CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGU\n-----END CERTIFICATE-----\n';
const KUBECONFIG_TOKEN = 'kubeconfig-user-token-0123456789';
const kubeconfigYaml = (user: string) => `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443
users:
- name: admin
  user:
${user}
`;

describe('Object: logger', () => {
  it.each([
    ['an S3 object key', { key: 'backups/b1/b1.tar.gz' }, 'key', 'backups/b1/b1.tar.gz'],
    ['an S3 object key in a list of deleted objects', { deleted: [{ key: 'backups/b1/b1-logs.gz' }] }, 'deleted.0.key', 'backups/b1/b1-logs.gz'],
    ["a ConfigMap's data", { object: forConfigMap('shop', 'app-config').data({ mode: 'fast' }).result() }, 'object.data.mode', 'fast'],
    ['a field named data', { data: { items: 3 } }, 'data.items', 3],
    ['a certificate', { caData: CERTIFICATE }, 'caData', CERTIFICATE],
    ['the name of the Secret a snapshot needs', { secret: { namespace: 'csi', name: 'snapshotter-secret' } }, 'secret.name', 'snapshotter-secret'],
    ["a Secret's name and namespace", { object: forSecret('shop', 'db').data({ password: 'pw' }).result() }, 'object.metadata.name', 'db'],
    ['a message naming the token field', { problem: 'expected one of {kubeconfig: ...}, {token: ...}' }, 'problem', 'expected one of {kubeconfig: ...}, {token: ...}'],
    ['how to authenticate', { reason: 'send "Authorization: Bearer <token>"' }, 'reason', 'send "Authorization: Bearer <token>"'],
    ['a message about a token', { problem: 'invalid token: expired' }, 'problem', 'invalid token: expired'],
    ['prose about bearer tokens', { reason: 'neither a valid bearer token nor a signature' }, 'reason', 'neither a valid bearer token nor a signature'],
    ['an error message without secrets', { error: new Error('cannot reach API server https://10.0.0.1:6443') }, 'error.message', 'cannot reach API server https://10.0.0.1:6443'],
  ])('keeps %s readable', (_what, fields, path, expected) => {
    // Act
    const { line } = logLine(fields);

    // Assess
    expect(path.split('.').reduce((value: any, segment) => value?.[segment], line)).toEqual(expected);
  });

  it.each([
    ["a Secret's data", { object: forSecret('shop', 'db').data({ password: 'secret-db-password' }).result() }, Buffer.from('secret-db-password').toString('base64')],
    ["a Secret's stringData", { object: forSecret('shop', 'db').stringData({ password: 'secret-db-password' }).result() }, 'secret-db-password'],
    [
      "a Secret's last-applied annotation",
      {
        object: forSecret('shop', 'db')
          .data({ password: 'secret-db-password' })
          .annotations({ 'kubectl.kubernetes.io/last-applied-configuration': '{"stringData":{"p":"secret-db-password"}}' })
          .result(),
      },
      'secret-db-password',
    ],
    [
      "the items of a list of Secrets",
      { list: { apiVersion: 'v1', kind: 'SecretList', items: [{ metadata: { name: 'db', namespace: 'shop' }, data: { password: 'c2VjcmV0LWRiLXBhc3N3b3Jk' } }] } },
      'c2VjcmV0LWRiLXBhc3N3b3Jk',
    ],
    ['a bearer token in a nested header', { request: { headers: { 'x-original-authorization': 'Bearer api-token-0123456789' } } }, 'api-token-0123456789'],
    ['a bearer token in an error message', { error: new Error('GET /apis refused "Bearer api-token-0123456789"') }, 'api-token-0123456789'],
    ['a JWT in a nested field', { response: { body: { note: `issued ${JWT}` } } }, JWT],
    ["a JWT in an error's cause", { error: new Error('request failed', { cause: new Error(`token ${JWT} expired`) }) }, JWT],
    ['a private key under a field named key', { clientCertificate: { key: PRIVATE_KEY } }, KEY_BODY],
    ['an EC private key in an error message', { error: new Error(`cannot parse ${EC_PRIVATE_KEY}`) }, KEY_BODY],
    ['a base64 private key', { keyData: Buffer.from(PRIVATE_KEY).toString('base64') }, Buffer.from(PRIVATE_KEY).toString('base64')],
    ['a kubeconfig with a token', { document: kubeconfigYaml(`    token: ${KUBECONFIG_TOKEN}`) }, KUBECONFIG_TOKEN],
    [
      'a kubeconfig with client key data in an error message',
      { error: new Error(`invalid kubeconfig: ${kubeconfigYaml('    client-key-data: a3ViZWNvbmZpZy1jbGllbnQta2V5')}`) },
      'a3ViZWNvbmZpZy1jbGllbnQta2V5',
    ],
    ['a JSON kubeconfig', { document: JSON.stringify({ users: [{ name: 'a', user: { token: KUBECONFIG_TOKEN } }] }) }, KUBECONFIG_TOKEN],
    ['an AWS secret access key', { credentials: { accessKeyId: 'AKIAEXAMPLEKEYID', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } }, 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    ['an AWS session token', { credentials: { sessionToken: 'FwoGZXIvYXdzEXAMPLESESSION' } }, 'FwoGZXIvYXdzEXAMPLESESSION'],
    ['a password', { auth: { Password: 'hunter2-hunter2' } }, 'hunter2-hunter2'],
  ])('redacts %s wherever it appears', (_what, fields, secret) => {
    // Act
    const { text } = logLine(fields);

    // Assess
    expect(text).toContain('[redacted');
    expect(text).not.toContain(secret);
  });

  it('redacts a resolved secret wherever it appears, also inside a remote error message', async () => {
    // Prepare
    const token = await resolveSecret({ fromEnv: 'CLUSTER_TOKEN' }, { env: { CLUSTER_TOKEN: 'cluster-token-0123456789' } });

    // Act
    const { text } = logLine({ error: new Error(`the webhook answered 403 for ${token}`), detail: { echoed: `x${token}y` } });

    // Assess
    expect(text).toContain('the webhook answered 403 for [redacted]');
    expect(text).not.toContain(token);
  });

  it('redacts secrets in the message itself', () => {
    // Act
    logger.warn(`retrying with Bearer api-token-0123456789`);

    // Assess
    expect(written.join('')).not.toContain('api-token-0123456789');
  });

  it('keeps a Secret as apiVersion, kind, name and namespace, its data redacted', () => {
    // Act
    const { line } = logLine({ object: forSecret('shop', 'db').data({ password: 'pw' }).labels({ app: 'db' }).result() });

    // Assess
    expect(line.object).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, data: '[redacted]' });
  });
});
