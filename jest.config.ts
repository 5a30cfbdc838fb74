import type { Config } from 'jest';

const typescript: Config = {
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import siblings as './x.js' (NodeNext); jest resolves the .ts file instead.
  // The page imports ansi_up from the server's /vendor/ route (public/js/line-html.js) and the
  // typed client from /client.js, which the server compiles from src/client (public/js/feed-stream.js).
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^/vendor/ansi_up\\.js$': '<rootDir>/node_modules/ansi_up/ansi_up.js',
    '^/client\\.js$': '<rootDir>/src/client/build-log-client.ts',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
};

/**
 * Four projects: `node` (npm test) needs nothing but Node, and runs the page's pure modules
 * too (tests/page); `browser` (npm run test:browser) drives Debian's Chromium, `proxy`
 * (npm run test:proxy) puts the server behind Debian's nginx and `cluster` (npm run
 * test:cluster) runs several server processes on redis-servers of its own, each checked for
 * before it starts.
 */
const config: Config = {
  testTimeout: 30000,
  projects: [
    { ...typescript, displayName: 'node', roots: ['<rootDir>/tests'], testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/browser/', '<rootDir>/tests/proxy/', '<rootDir>/tests/cluster/'] },
    { ...typescript, displayName: 'browser', roots: ['<rootDir>/tests/browser'] },
    { ...typescript, displayName: 'proxy', roots: ['<rootDir>/tests/proxy'] },
    { ...typescript, displayName: 'cluster', roots: ['<rootDir>/tests/cluster'] },
  ],
};

export default config;
