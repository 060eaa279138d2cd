import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConditionalError, evaluateConditional, matchesBranchFilter } from "../../components/simulator/conditionals";
import { buildFacts } from "../fixtures/simulator";

/*
 * components/simulator/conditionals.ts: the subset of Buildkite step conditionals and branch filters the generated
 * steps use, evaluated for a build's facts; anything outside it is an error naming the expression.
 */

describe("evaluateConditional (buildkite docs, pages/pipelines/configure/conditionals.md)", () => {
    it("compares with null, and gives && precedence over ||", () => {
        assert.equal(evaluateConditional("build.tag != null", buildFacts({ tag: "v1" })), true);
        assert.equal(evaluateConditional("build.tag != null", buildFacts()), false);
        assert.equal(
            evaluateConditional('build.branch == "x" || build.branch == "main" && build.tag == null', buildFacts()),
            true,
        );
        assert.equal(evaluateConditional('(build.branch == "x" || true) && false', buildFacts()), false);
        assert.equal(
            evaluateConditional("build.branch == pipeline.default_branch", buildFacts({ branch: "dev" })),
            false,
        );
        assert.equal(evaluateConditional("build.pull_request.id != null", buildFacts({ pullRequestId: "12" })), true);
    });

    it("reads each modelled variable from the build's facts", () => {
        const f = buildFacts({
            branch: "dev",
            tag: "v2",
            source: "schedule",
            pullRequestId: "7",
            defaultBranch: "trunk",
        });
        assert.equal(evaluateConditional('build.branch == "dev"', f), true);
        assert.equal(evaluateConditional('build.tag == "v2"', f), true);
        assert.equal(evaluateConditional('build.source == "schedule"', f), true);
        assert.equal(evaluateConditional('build.pull_request.id == "7"', f), true);
        assert.equal(evaluateConditional('pipeline.default_branch == "trunk"', f), true);
        assert.equal(evaluateConditional('build.source == "webhook"', f), false);
    });

    it("reads build.env(NAME) as null when unset, takes either quote, and treats the empty string as false", () => {
        assert.equal(evaluateConditional('build.env("DEPLOY") == null', buildFacts()), true);
        assert.equal(evaluateConditional("build.env('DEPLOY') == 'yes'", buildFacts({ env: { DEPLOY: "yes" } })), true);
        assert.equal(evaluateConditional('build.env("DEPLOY")', buildFacts({ env: { DEPLOY: "yes" } })), true);
        assert.equal(evaluateConditional('build.env("DEPLOY")', buildFacts({ env: { DEPLOY: "" } })), false);
        assert.equal(evaluateConditional('build.env("DEPLOY")', buildFacts()), false);
    });

    it("negates with !, which binds tighter than == and applies to a parenthesised expression", () => {
        assert.equal(evaluateConditional("!build.tag", buildFacts()), true);
        assert.equal(evaluateConditional("!build.tag", buildFacts({ tag: "v1" })), false);
        assert.equal(evaluateConditional('!(build.branch == "main")', buildFacts()), false);
        assert.equal(evaluateConditional("!!true", buildFacts()), true);
        // `!build.tag` is true, and true is not null.
        assert.equal(evaluateConditional("!build.tag == null", buildFacts()), false);
    });

    it("refuses what it does not model, naming the expression", () => {
        assert.throws(() => evaluateConditional("build.message =~ /skip/", buildFacts()), ConditionalError);
        assert.throws(
            () => evaluateConditional('build.branch !~ "x"', buildFacts()),
            /regular expressions are not modelled/,
        );
        assert.throws(() => evaluateConditional("build.creator.email == 'a'", buildFacts()), /build\.creator\.email/);
        assert.throws(() => evaluateConditional('build.branch == "main" )', buildFacts()), /trailing/);
    });

    it("refuses malformed expressions with the problem and the expression quoted", () => {
        const cases: [string, RegExp][] = [
            ["", /^conditional "": ends too early$/],
            ['build.branch == "main', /^conditional "build\.branch == \\"main": unterminated string$/],
            ["build.branch ==", /ends too early/],
            ["(true", /expected "\)"/],
            ["build.env(DEPLOY)", /build\.env takes a string/],
            ['build.env "X"', /expected "\("/],
            ["build.number == 1", /unexpected character "1"/],
            [") == true", /unexpected "\)"/],
        ];
        for (const [expression, message] of cases)
            assert.throws(
                () => evaluateConditional(expression, buildFacts()),
                (e: unknown) =>
                    e instanceof ConditionalError && e.name === "ConditionalError" && message.test(e.message),
                expression,
            );
    });
});

describe("matchesBranchFilter (buildkite docs, pages/pipelines/configure/workflows/branch_configuration.md)", () => {
    it("matches the documented examples", () => {
        assert.equal(matchesBranchFilter("main", "main"), true);
        assert.equal(matchesBranchFilter("!production", "main"), true);
        assert.equal(matchesBranchFilter("!production", "production"), false);
        assert.equal(matchesBranchFilter("main features/*", "features/a/b"), true);
        assert.equal(matchesBranchFilter("stages/* !stages/production", "stages/production"), false);
        assert.equal(matchesBranchFilter("v* !v1.*", "v2.3"), true);
        assert.equal(matchesBranchFilter("v* !v1.*", "v1.1"), false);
        assert.equal(matchesBranchFilter("v*.0", "v1.0"), true);
        assert.equal(matchesBranchFilter("v*.0", "v1.1"), false);
    });

    it("lets every branch through an empty filter, and only negated patterns exclude without including", () => {
        assert.equal(matchesBranchFilter("", "anything"), true);
        assert.equal(matchesBranchFilter("   ", "anything"), true);
        assert.equal(matchesBranchFilter("!main !dev", "feature"), true);
        assert.equal(matchesBranchFilter("!main !dev", "dev"), false);
    });

    it("matches a pattern whole, reads regular-expression characters literally, and splits on any whitespace", () => {
        assert.equal(matchesBranchFilter("main", "main-old"), false);
        assert.equal(matchesBranchFilter("main", "not-main"), false);
        assert.equal(matchesBranchFilter("release/1.0", "release/1x0"), false);
        assert.equal(matchesBranchFilter("fix+(x)", "fix+(x)"), true);
        assert.equal(matchesBranchFilter("fix+(x)", "fixx"), false);
        assert.equal(matchesBranchFilter("main\t  dev\n", "dev"), true);
    });
});
