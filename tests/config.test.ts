import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, defaultYarnBin, loadConfig } from '../src/config.js';
import { repoRoot } from '../src/paths.js';

describe('loadConfig', () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'config-test-'));
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  it('gives the contract defaults for an empty environment', () => {
    const config = loadConfig({}, cwd);
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      projectsRoots: [fs.realpathSync(path.join(repoRoot, 'examples'))],
      dataDir: path.join(cwd, 'data'),
      maxClients: 100,
      heartbeatMs: 15000,
      retryMs: 3000,
      maxConcurrentBuilds: 2,
      maxQueuedBuilds: 20,
      buildTimeoutMs: 1800000,
      authToken: null,
      corsOrigins: null,
      yarnBin: defaultYarnBin(),
      publicUrl: null,
      trustProxy: false,
      allowedHosts: [],
      maxClientsPerAddress: 25,
      keepBuilds: 100,
      keepDays: 30,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable', () => {
    const other = fs.mkdtempSync(path.join(cwd, 'root-'));
    const config = loadConfig(
      {
        PORT: '0',
        HOST: '0.0.0.0',
        PROJECTS_ROOT: `${cwd}:${other}`,
        DATA_DIR: 'state',
        MAX_CLIENTS: '7',
        HEARTBEAT_MS: '250',
        RETRY_MS: '0',
        MAX_CONCURRENT_BUILDS: '3',
        MAX_QUEUED_BUILDS: '0',
        BUILD_TIMEOUT_MS: '60000',
        AUTH_TOKEN: 's3cret',
        CORS_ORIGINS: 'https://a.example, http://b.example:8080',
        YARN_BIN: '/opt/yarn/bin/yarn',
        PUBLIC_URL: 'https://Builds.Example.com:8443/ci/',
        TRUST_PROXY: 'true',
        ALLOWED_HOSTS: 'ci.example, 10.0.0.5',
        MAX_CLIENTS_PER_ADDRESS: '0',
        KEEP_BUILDS: '5',
        KEEP_DAYS: '0',
      },
      cwd,
    );
    expect(config).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      projectsRoots: [fs.realpathSync(cwd), fs.realpathSync(other)],
      dataDir: path.join(cwd, 'state'),
      maxClients: 7,
      heartbeatMs: 250,
      retryMs: 0,
      maxConcurrentBuilds: 3,
      maxQueuedBuilds: 0,
      buildTimeoutMs: 60000,
      authToken: 's3cret',
      corsOrigins: ['https://a.example', 'http://b.example:8080'],
      yarnBin: '/opt/yarn/bin/yarn',
      publicUrl: { href: 'https://builds.example.com:8443/ci/', origin: 'https://builds.example.com:8443', hostname: 'builds.example.com' },
      trustProxy: true,
      allowedHosts: ['ci.example', '10.0.0.5'],
      maxClientsPerAddress: 0,
      keepBuilds: 5,
      keepDays: 0,
    });
  });

  it('accepts * as ALLOWED_HOSTS', () => expect(loadConfig({ ALLOWED_HOSTS: '*' }, cwd).allowedHosts).toBe('*'));

  it('accepts * as CORS_ORIGINS', () => expect(loadConfig({ CORS_ORIGINS: '*' }, cwd).corsOrigins).toBe('*'));

  it('takes only PATH, HOME and LANG of the environment for builds', () => {
    const config = loadConfig({ PATH: '/x/bin', HOME: '/home/x', LANG: 'de_DE.UTF-8', AUTH_TOKEN: 't' }, cwd);
    expect(config.inheritedEnv).toEqual({ path: '/x/bin', home: '/home/x', lang: 'de_DE.UTF-8' });
  });

  it.each([
    ['MAX_CLIENTS', 'abc', 'MAX_CLIENTS must be a positive integer, got "abc"'],
    ['MAX_CLIENTS', '0', 'MAX_CLIENTS must be a positive integer no larger than'],
    ['PORT', '-1', 'PORT must be a non-negative integer, got "-1"'],
    ['PORT', '65536', 'PORT must be a non-negative integer no larger than 65535, got "65536"'],
    ['PORT', '3.5', 'PORT must be a non-negative integer, got "3.5"'],
    ['HEARTBEAT_MS', '1e3', 'HEARTBEAT_MS must be'],
    ['RETRY_MS', '-5', 'RETRY_MS must be a non-negative integer'],
    ['MAX_CONCURRENT_BUILDS', '0', 'MAX_CONCURRENT_BUILDS must be a positive integer'],
    ['MAX_QUEUED_BUILDS', 'many', 'MAX_QUEUED_BUILDS must be a non-negative integer'],
    ['BUILD_TIMEOUT_MS', '0', 'BUILD_TIMEOUT_MS must be a positive integer'],
    ['PROJECTS_ROOT', '/no/such/folder', 'PROJECTS_ROOT folder does not exist: "/no/such/folder"'],
    ['AUTH_TOKEN', '   ', 'AUTH_TOKEN is set but empty'],
    ['CORS_ORIGINS', 'not a url', 'CORS_ORIGINS must be "*" or a comma-separated list of origins'],
    ['CORS_ORIGINS', 'https://a.example/path', 'CORS_ORIGINS entries must be bare origins'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of'],
    ['PUBLIC_URL', 'builds.example.com', 'PUBLIC_URL must be a URL like https://builds.example.com, got "builds.example.com"'],
    ['PUBLIC_URL', 'ftp://builds.example.com', 'PUBLIC_URL must be an http:// or https:// URL'],
    ['TRUST_PROXY', 'yes', 'TRUST_PROXY must be true or false, got "yes"'],
    ['ALLOWED_HOSTS', 'a.example:8080', 'ALLOWED_HOSTS must be "*" or comma-separated host names without port; "a.example:8080" is not one'],
    ['MAX_CLIENTS_PER_ADDRESS', '-1', 'MAX_CLIENTS_PER_ADDRESS must be a non-negative integer, got "-1"'],
    ['KEEP_BUILDS', 'all', 'KEEP_BUILDS must be a non-negative integer, got "all"'],
    ['KEEP_DAYS', '1.5', 'KEEP_DAYS must be a non-negative integer, got "1.5"'],
    ['REDIS_URL', 'http://127.0.0.1:6379', 'REDIS_URL must be a URL like redis://host:6379'],
    ['ROLE', 'builder', 'ROLE must be one of all, api, worker, got "builder"'],
    ['ROLE', 'worker', 'ROLE=worker needs REDIS_URL'],
    ['WORKER_NAME', 'two words', 'WORKER_NAME must be 1 to 100 letters'],
    ['WORKER_LOST_MS', '50', 'WORKER_LOST_MS must be an integer of at least 100'],
  ])('refuses %s=%j with one line naming it', (name, value, message) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value }, cwd);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('runs one process without Redis by default, named after its host and pid', () => {
    expect(loadConfig({}, cwd)).toMatchObject({ redisUrl: null, redisPrefix: 'buildlog:', role: 'all', workerName: `${os.hostname()}-${process.pid}`, workerLostMs: 30000 });
  });

  it('joins a cluster with REDIS_URL, REDIS_PREFIX, ROLE, WORKER_NAME and WORKER_LOST_MS', () => {
    const env = { REDIS_URL: 'rediss://user:secret@redis.example:6380/2', REDIS_PREFIX: 'ci:', ROLE: 'worker', WORKER_NAME: 'builder-7', WORKER_LOST_MS: '5000' };
    expect(loadConfig(env, cwd)).toMatchObject({ redisUrl: env.REDIS_URL, redisPrefix: 'ci:', role: 'worker', workerName: 'builder-7', workerLostMs: 5000 });
  });

  it('refuses a PROJECTS_ROOT entry that is a file', () => {
    const file = path.join(cwd, 'a-file');
    fs.writeFileSync(file, '');
    expect(() => loadConfig({ PROJECTS_ROOT: file }, cwd)).toThrow('PROJECTS_ROOT entry is not a folder');
  });
});
