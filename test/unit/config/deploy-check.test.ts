import { describe, expect, it } from 'vitest';
import { checkDeployment, templateSecretPaths, type Deployment } from '../../../lib/config/deploy-check';

/**
 * What `serverless package` refuses (plugins/skiff-deploy.mjs): a configuration that
 * would put a secret into the template or the package, or name a path only this
 * machine has.
 */
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJza2lmZiJ9.c2lnbmF0dXJl';
const READABLE_PARAMETERS = ['arn:aws:ssm:*:*:parameter/skiff/*'];
const READABLE_SECRETS = ['arn:aws:secretsmanager:*:*:secret:skiff/*'];

function deployment(env: Record<string, string>, files: Record<string, string> = {}, local: string[] = []): Deployment {
  return {
    environments: { healthz: { NODE_OPTIONS: '--enable-source-maps', ...env }, backups: { NODE_OPTIONS: '--enable-source-maps', ...env } },
    readableParameters: READABLE_PARAMETERS,
    readableSecrets: READABLE_SECRETS,
    readServiceFile: (path) => files[path],
    existsLocally: (path) => local.includes(path),
  };
}

const referenced = JSON.stringify({
  api: { bearerTokens: [{ fromSecretsManager: 'skiff/api-token' }] },
  clusters: [{ name: 'prod', server: 'https://10.0.0.1:6443', auth: { token: { fromSecretsManager: 'skiff/prod', key: 'token' } }, storageLocations: ['default'] }],
  storageLocations: [{ name: 'default', bucket: 'backups' }],
});
const withStorageKeys = JSON.stringify({
  storageLocations: [{ name: 'default', bucket: 'backups', credentials: { accessKeyId: 'AKIAEXAMPLEKEY01', secretAccessKey: 'wJalrXUtnFEMIexamplekey' } }],
});

describe('Function: checkDeployment', () => {
  it.each<[string, Record<string, string>, Record<string, string>]>([
    ['no configuration (embedded defaults)', {}, {}],
    ['an SSM parameter under /skiff/', { SKIFF_CONFIG_PARAMETER: '/skiff/prod/config' }, {}],
    ['an SSM parameter pinned to a version', { SKIFF_CONFIG_PARAMETER: '/skiff/prod/config:3' }, {}],
    ['a Secrets Manager secret under skiff/', { SKIFF_CONFIG_SECRET: 'skiff/prod/config' }, {}],
    ['an inline configuration that references its secrets', { SKIFF_CONFIG: referenced }, {}],
    ['a shipped file that references its secrets', { SKIFF_CONFIG_FILE: 'deploy/skiff.yaml' }, { 'deploy/skiff.yaml': referenced }],
    ['a secret file on a layer', { SKIFF_CONFIG: JSON.stringify({ api: { hmacSecret: { fromFile: '/opt/skiff/hmac' } } }) }, {}],
  ])('accepts %s', (_, env, files) => {
    // Act
    const { problems } = checkDeployment(deployment(env, files));

    // Assess
    expect(problems).toEqual([]);
  });

  it.each<[string, Record<string, string>, Record<string, string>, RegExp]>([
    ['inline S3 keys', { SKIFF_CONFIG: withStorageKeys }, {}, /SKIFF_CONFIG \(written into the CloudFormation template\): storageLocations\.0\.credentials\.accessKeyId is an inline secret.*fromSecretsManager/],
    ['an inline cluster token', { SKIFF_CONFIG: JSON.stringify({ clusters: [{ name: 'a', server: 'https://a:6443', auth: { token: 'a-long-cluster-token' }, storageLocations: ['d'] }], storageLocations: [{ name: 'd', bucket: 'bkt' }] }) }, {}, /clusters\.0\.auth\.token is an inline secret/],
    ['an inline kubeconfig in a shipped file', { SKIFF_CONFIG_FILE: 'skiff.yaml' }, { 'skiff.yaml': `clusters:\n  - name: a\n    auth: { kubeconfig: "apiVersion: v1" }\n    storageLocations: [d]\nstorageLocations: [{ name: d, bucket: bkt }]\n` }, /the configuration file skiff\.yaml \(shipped in every function's package\): clusters\.0\.auth\.kubeconfig is an inline secret/],
    ['a secret read from the environment', { SKIFF_CONFIG: JSON.stringify({ api: { bearerTokens: [{ fromEnv: 'API_TOKEN' }] } }) }, {}, /api\.bearerTokens\.0 reads environment variable API_TOKEN, whose value a deployment writes into the CloudFormation template/],
    ['a secret file on this machine', { SKIFF_CONFIG: JSON.stringify({ api: { hmacSecret: { fromFile: '/home/me/hmac' } } }) }, {}, /api\.hmacSecret reads the file \/home\/me\/hmac, which the functions do not have/],
    ['a configuration file named by an absolute path', { SKIFF_CONFIG_FILE: '/home/me/skiff.yaml' }, {}, /SKIFF_CONFIG_FILE=\/home\/me\/skiff\.yaml names a path on this machine.*SKIFF_CONFIG_PARAMETER=\/skiff\/<stage>\/config/],
    ['a configuration file outside the service directory', { SKIFF_CONFIG_FILE: '../skiff.yaml' }, {}, /names a path outside the service directory/],
    ['a configuration file that is not there', { SKIFF_CONFIG_FILE: 'skiff.yaml' }, {}, /SKIFF_CONFIG_FILE=skiff\.yaml: no such file in the service directory/],
    ['two configuration sources', { SKIFF_CONFIG_PARAMETER: '/skiff/prod/config', SKIFF_CONFIG: referenced }, {}, /set one of SKIFF_CONFIG_PARAMETER, SKIFF_CONFIG, not 2/],
    ['a parameter name without its path', { SKIFF_CONFIG_PARAMETER: 'skiff-config' }, {}, /name the parameter by its full path, starting with "\/"/],
    ['a parameter the role may not read', { SKIFF_CONFIG_PARAMETER: '/other/config' }, {}, /may not read SSM parameter \/other\/config.*--param configParameterArns=<arn>/],
    ['a referenced secret the role may not read', { SKIFF_CONFIG: JSON.stringify({ api: { hmacSecret: { fromSecretsManager: 'other/hmac' } } }) }, {}, /may not read secret other\/hmac \(api\.hmacSecret\).*--param secretArns=<arn>/],
    ['an invalid configuration', { SKIFF_CONFIG: 'storageLocations: [{ name: default }]' }, {}, /storageLocations\.0\.bucket/],
    ['a token in another environment variable', { EXTRA: `Bearer ${JWT}` }, {}, /every function: environment variable EXTRA holds what looks like a secret/],
    ['an environment over 4 KB', { SKIFF_CONFIG: JSON.stringify({ storageLocations: Array.from({ length: 120 }, (_, i) => ({ name: `l${i}`, bucket: `bucket-${i}` })) }) }, {}, /every function: the environment takes \d+ bytes, over Lambda's limit of 4096/],
  ])('refuses %s, saying what to do instead', (_, env, files, message) => {
    // Act
    const { problems } = checkDeployment(deployment(env, files));

    // Assess
    expect(problems.join('\n')).toMatch(message);
  });

  it('never shows a secret it refuses', () => {
    // Act
    const { problems } = checkDeployment(deployment({ SKIFF_CONFIG: withStorageKeys }));

    // Assess
    expect(problems.join('\n')).not.toMatch(/AKIAEXAMPLEKEY01|wJalrXUtnFEMIexamplekey/);
  });

  it('names a path of this machine in any variable, where the functions have only their package, /opt and /mnt', () => {
    // Act
    const { problems } = checkDeployment(deployment({ CA_BUNDLE: '/etc/ssl/ca.pem', LAYER: '/opt/ca.pem' }, {}, ['/etc/ssl/ca.pem', '/opt/ca.pem']));

    // Assess
    expect(problems).toEqual(['every function: environment variable CA_BUNDLE names /etc/ssl/ca.pem, a path on this machine that the functions do not have']);
  });

  it('ships the configuration file and the CA files it names by relative path', () => {
    // Prepare
    const file = `clusters:\n  - name: a\n    server: https://a:6443\n    caFile: deploy/ca.pem\n    auth: { token: { fromSecretsManager: skiff/a } }\n    storageLocations: [d]\nstorageLocations: [{ name: d, bucket: bkt }]\n`;

    // Act
    const check = checkDeployment(deployment({ SKIFF_CONFIG_FILE: './deploy/skiff.yaml' }, { './deploy/skiff.yaml': file, 'deploy/ca.pem': 'PEM' }));

    // Assess
    expect(check).toEqual({ problems: [], filesToShip: ['deploy/ca.pem', 'deploy/skiff.yaml'] });
  });
});

describe('Function: templateSecretPaths', () => {
  it('names where in a template a token, JWT or private key sits, and nothing else', () => {
    // Prepare
    const template = {
      Resources: {
        A: { Properties: { Environment: { Variables: { TOKEN: JWT, PLAIN: 'skiff-dev-backupRunner' } } } },
        B: { Properties: { Description: '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----' } },
        C: { Properties: { Policies: ['arn:aws:ssm:*:*:parameter/skiff/*'] } },
      },
    };

    // Act
    const paths = templateSecretPaths(template);

    // Assess
    expect(paths).toEqual(['Resources.A.Properties.Environment.Variables.TOKEN', 'Resources.B.Properties.Description']);
  });
});
