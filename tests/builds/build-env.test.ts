import { BUILD_ID_VARIABLE, buildEnvironment } from '../../src/builds/build-env.js';

describe('buildEnvironment', () => {
  const inherited = { path: '/usr/bin:/bin', home: '/home/ci', lang: 'C.UTF-8' };

  it('is exactly the contract\'s variables, with the build\'s id in BUILDLOG_BUILD_ID', () =>
    expect(buildEnvironment(inherited, '/tmp/build-log-abc-1', '0mx57bufdpnm740', '/opt/node/bin')).toEqual({
      PATH: '/usr/bin:/bin:/opt/node/bin',
      HOME: '/home/ci',
      LANG: 'C.UTF-8',
      CI: 'true',
      FORCE_COLOR: '1',
      TMPDIR: '/tmp/build-log-abc-1',
      BUILDLOG_BUILD_ID: '0mx57bufdpnm740',
    }));

  it('names the variable as the contract does', () => expect(BUILD_ID_VARIABLE).toBe('BUILDLOG_BUILD_ID'));

  it('does not add Node\'s folder to PATH twice', () =>
    expect(buildEnvironment({ ...inherited, path: '/opt/node/bin:/bin' }, '/tmp/x', 'id', '/opt/node/bin').PATH).toBe('/opt/node/bin:/bin'));
});
