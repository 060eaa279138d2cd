/*
 * One shard of `npm run test:unit` (scripts/test.ts runs this file with node --test, no isolation): loads each test
 * file named in CI_PLATFORM_TEST_FILES (a JSON array of paths) inside a suite named by its path. The test runner
 * loads every file before it runs any test, and runs a top-level before hook as soon as its file loads; inside its
 * file's suite, a file's hooks run just before, and after, that file's own tests, never beside another file's.
 */
import * as path from "node:path";
import { describe, it } from "node:test";

const files = JSON.parse(process.env.CI_PLATFORM_TEST_FILES ?? "[]") as string[];
for (const file of files)
    void describe(file, () => {
        // Synchronous: the file's tests and hooks are declared while this suite is the current one.
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the test file is loaded inside its suite
            require(path.resolve(file));
        } catch (error: unknown) {
            // Node 22's runner reports an error thrown inside describe() but still exits 0 (nodejs/node#58687, fixed
            // in later majors): a file that cannot load fails the shard as a failing test of its own.
            process.exitCode = 1;
            it("loads", () => {
                throw error;
            });
        }
    });
