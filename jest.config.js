/** Unit tests need no services; integration and e2e start theirs in globalSetup. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  testTimeout: 120000,
  // A test that fails before its cleanup can leave a browser or a listener behind; the run
  // must still end (leaks are asserted by the tests themselves: pages, sockets, processes).
  forceExit: true,
};
