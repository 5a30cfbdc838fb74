import type { Config } from 'jest';

const typescript: Config = {
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import siblings as './x.js' (NodeNext); jest resolves the .ts file instead.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
};

/**
 * Two projects: `node` (npm test) needs nothing but Node; `browser` (npm run test:browser)
 * drives Debian's Chromium and is checked for it before it starts.
 */
const config: Config = {
  testTimeout: 30000,
  projects: [
    { ...typescript, displayName: 'node', roots: ['<rootDir>/tests'], testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/browser/', '<rootDir>/tests/proxy/'] },
    { ...typescript, displayName: 'browser', roots: ['<rootDir>/tests/browser'] },
    { ...typescript, displayName: 'proxy', roots: ['<rootDir>/tests/proxy'] },
  ],
};

export default config;
