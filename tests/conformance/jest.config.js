// Jest settings for the Solid CRUD suite as installed in node_modules/solid-crud-tests: its TypeScript tests are
// transpiled without type checks (their type packages are development dependencies of the suite, not installed)
// and run one file at a time (--runInBand), as the suite's own configuration does with jest-serial-runner.
module.exports = {
  rootDir: __dirname,
  preset: "ts-jest",
  testEnvironment: "node",
  testTimeout: 60000,
  setupFilesAfterEnv: ["jest-extended"],
  testPathIgnorePatterns: [],
  transformIgnorePatterns: ["/node_modules/(?!solid-crud-tests/)"],  // the suite itself lives in node_modules
  globals: { "ts-jest": { isolatedModules: true, diagnostics: false } },
};
