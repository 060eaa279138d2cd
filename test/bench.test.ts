import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatTable, main } from "../scripts/bench";

/*
 * npm run bench (scripts/bench.ts): its command line refuses bad sizes before it measures anything, and its table.
 * The measuring itself spawns plans for minutes; its arithmetic is tested in test/bench/summary.test.ts and its
 * organisations in test/bench/synthetic.test.ts.
 */
function run(...argv: string[]) {
    let stdout = "";
    let stderr = "";
    const code = main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
}

describe("npm run bench", () => {
    it("prints its help and exits 0 without measuring", () => {
        const r = run("--help");
        assert.equal(r.code, 0);
        assert.match(r.stdout, /--sizes 100,500,1000/);
        assert.match(r.stdout, /--no-tests/);
    });

    it("exits 2 for sizes or runs that are not whole numbers of at least 1, with the usage", () => {
        for (const argv of [
            ["--sizes", "0"],
            ["--sizes", "100,x"],
            ["--sizes", "1.5"],
            ["--runs", "0"],
            ["--runs", "many"],
        ]) {
            const r = run(...argv);
            assert.equal(r.code, 2, argv.join(" "));
            assert.match(r.stderr, /^bench: --sizes takes whole numbers of pipelines and --runs a whole number/);
            assert.match(r.stderr, /Usage|usage/);
        }
    });

    it("exits 2 for an unknown flag", () => {
        const r = run("--fast");
        assert.equal(r.code, 2);
        assert.match(r.stderr, /--fast/);
    });
});

describe("formatTable", () => {
    it("left-aligns the first column, right-aligns the others, each as wide as its widest cell", () => {
        assert.equal(
            formatTable(
                ["stack", "CPU s"],
                [
                    ["prod", "3.43"],
                    ["1000 pipelines", "16.87"],
                ],
            ),
            ["stack           CPU s", "--------------  -----", "prod             3.43", "1000 pipelines  16.87"].join(
                "\n",
            ),
        );
    });
});
