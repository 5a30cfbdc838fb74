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
 * Tests mirror src/ (and public/, bench/), so a project picks its files by a suffix that
 * names the system component a suite needs, not by a folder: `node` (npm test) runs every
 * `*.test.ts` that needs nothing but Node, the page's pure modules too (tests/public/js);
 * `browser` (npm run test:browser) runs `*.chromium.test.ts` on Debian's Chromium, `proxy`
 * (npm run test:proxy) runs `*.nginx.test.ts` with the server behind Debian's nginx and
 * `cluster` (npm run test:cluster) runs `*.redis.test.ts`, on the machine's Redis or on
 * redis-servers of their own with several server processes. Each script checks for its
 * component before it starts (tests/helpers/require/).
 */
const SYSTEM_SUITES = ['\\.chromium\\.test\\.ts$', '\\.nginx\\.test\\.ts$', '\\.redis\\.test\\.ts$'];

const config: Config = {
  testTimeout: 30000,
  projects: [
    { ...typescript, displayName: 'node', roots: ['<rootDir>/tests'], testPathIgnorePatterns: ['/node_modules/', ...SYSTEM_SUITES] },
    { ...typescript, displayName: 'browser', roots: ['<rootDir>/tests'], testMatch: ['**/*.chromium.test.ts'] },
    { ...typescript, displayName: 'proxy', roots: ['<rootDir>/tests'], testMatch: ['**/*.nginx.test.ts'] },
    { ...typescript, displayName: 'cluster', roots: ['<rootDir>/tests'], testMatch: ['**/*.redis.test.ts'] },
  ],
};

export default config;
