import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compileGlob, GlobSyntaxError, ifChangedSelects, matchesGlob } from "../../components/steps/glob";

type Case = readonly [pattern: string, path: string, expected: boolean];

function check(cases: readonly Case[]): void {
    for (const [pattern, path, expected] of cases) {
        assert.equal(matchesGlob(pattern, path), expected, `matchesGlob(${JSON.stringify(pattern)}, ${path})`);
    }
}

describe("matchesGlob", () => {
    it("compares all-literal patterns with the whole path", () => {
        check([
            ["a/b", "a/b", true],
            ["a/b", "a/b/", false],
            ["a/b", "a/b/c", false],
            ["b", "a/b", false],
            ["go.mod", "go.mod", true],
            ["go.mod", "sub/go.mod", false],
        ]);
    });

    it("lets * and ? match within one path segment only", () => {
        check([
            ["a*b", "acccccb", true],
            ["a*b", "ab", true],
            ["a*b", "abc", false],
            ["a*b", "a/b", false],
            ["*", "abcde", true],
            ["*", "abc/", false],
            ["*.py", "setup.py", true],
            ["*.py", "pkg/setup.py", false],
            ["a?b", "acb", true],
            ["a?b", "ab", false],
            ["a?b", "accb", false],
            ["a?b", "a/b", false],
        ]);
    });

    it("lets ** cross directories, and match zero directories as a leading **/ or a /**/", () => {
        check([
            ["**", "abc/def", true],
            ["**.go", "main.go", true],
            ["**.go", "cmd/agent/main.go", true],
            ["**.go", "main.go.orig", false],
            ["a**b", "acb", true],
            ["a**b", "a/c/b", true],
            ["a**b", "a/b/c", false],
            ["a/**/b", "a/b", true],
            ["a/**/b", "a/c/d/e/f/b", true],
            ["a/**/b", "ab", false],
            ["a/**/b", "a/xb", false],
            ["**/BUILD", "BUILD", true],
            ["**/BUILD", "x/y/BUILD", true],
            ["**/BUILD", "xBUILD", false],
            ["foo/**", "foo/a", true],
            ["foo/**", "foo/a/b/c.txt", true],
            ["foo/**", "foo", false],
            ["foo/**", "foobar/a", false],
            ["libs/foo/**", "libs/foobar/x.py", false],
            ["***", "a/b", true],
        ]);
    });

    it("expands {a,b} alternations, including empty, nested and multi-segment branches", () => {
        check([
            ["go.{mod,sum}", "go.sum", true],
            ["go.{mod,sum}", "go.work", false],
            ["{app/**,spec/**}", "spec/models/user_spec.rb", true],
            ["{app/**,spec/**}", "lib/x.rb", false],
            ["{**.go,go.{mod,sum}}", "go.mod", true],
            ["{**.go,go.{mod,sum}}", "pkg/x.go", true],
            ["{a,b*}", "bc", true],
            ["{a,b*}", "bcc/cc", false],
            ["{a,b**}", "bcc/cc", true],
            ["{,a}{,a}b", "b", true],
            ["{,a}{,a}b", "aab", true],
            ["{,a}{,a}b", "aaab", false],
            ["go.{mod, sum}", "go.sum", false],
            ["go.{mod, sum}", "go. sum", true],
        ]);
    });

    it("treats , and } outside braces as literal characters", () => {
        check([
            ["**.go,go.mod", "go.mod", false],
            ["**.go,go.mod", "x.go,go.mod", true],
            ["a}b", "a}b", true],
        ]);
    });

    it("has character classes without ranges, and negated classes that also match /", () => {
        check([
            ["a/[bc]/d", "a/c/d", true],
            ["a/[bc]/d", "a/x/d", false],
            ["[a-c]", "b", false],
            ["[a-c]", "-", true],
            ["[a-c]", "c", true],
            ["a/[^bc]/d", "a/b/d", false],
            ["a/[^bc]/d", "a/x/d", true],
            ["a[^x]b", "a/b", true],
            ["x[]", "x", false],
            ["[*?]", "*", true],
            ["[*?]", "a", false],
            ["a[", "a[", true],
        ]);
    });

    it("escapes the next character with a backslash", () => {
        check([
            ["\\*", "*", true],
            ["\\*", "a", false],
            ["a\\{b,c\\}", "a{b,c}", true],
            ["a\\", "a\\", true],
        ]);
    });

    it("never matches a repository path with a pattern that starts with ~/ (the agent's home directory)", () => {
        check([
            ["~/x", "~/x", false],
            ["~/x", "x", false],
            ["a/~/x", "a/~/x", true],
        ]);
    });

    it("agrees with zzglob where its epsilon-edge reduction drops an empty match after braces", () => {
        check([
            ["foo{,.py}*", "foo.py", true],
            ["foo{,.py}*", "foox", true],
            ["foo{,.py}*", "foo", false],
            ["{a,}*", "a", true],
            ["{a,}*", "b", true],
            ["foo{,.py}x*", "foox", true],
        ]);
    });

    it("throws GlobSyntaxError naming the pattern for an unclosed { or [", () => {
        assert.throws(() => compileGlob("src/{a,b"), {
            name: "GlobSyntaxError",
            message: 'glob pattern "src/{a,b": unterminated alternation: "{" has no closing "}"',
        });
        assert.throws(() => matchesGlob("src/[ab", "src/a"), {
            name: "GlobSyntaxError",
            message: 'glob pattern "src/[ab": unterminated character class: "[" has no closing "]"',
        });
        assert.throws(() => compileGlob("[a\\"), GlobSyntaxError);
    });
});

describe("ifChangedSelects", () => {
    it("selects when any changed file matches a single pattern", () => {
        assert.equal(ifChangedSelects("foo/**", ["bar/x", "foo/README.md"]), true);
        assert.equal(ifChangedSelects("foo/**", ["bar/x", "qux"]), false);
    });

    it("never selects with no changed files, for any pattern (the agent's 'no changes' case)", () => {
        assert.equal(ifChangedSelects("**", []), false);
        assert.equal(ifChangedSelects(["**"], ["", "   "]), false);
    });

    it("accepts a list of patterns, any of which may match", () => {
        assert.equal(ifChangedSelects(["foo/**", "bar/**"], ["bar/README.md"]), true);
        assert.equal(ifChangedSelects(["foo/**", "bar/**"], ["baz/README.md"]), false);
        assert.equal(ifChangedSelects([], ["anything"]), false);
    });

    it("discards excluded paths before matching include patterns", () => {
        const ifChanged = { include: "foo/**", exclude: "foo/baz" };
        assert.equal(ifChangedSelects(ifChanged, ["foo/baz"]), false);
        assert.equal(ifChangedSelects(ifChanged, ["foo/baz", "foo/qux"]), true);
        assert.equal(ifChangedSelects({ include: ["a/**"], exclude: ["**.md", "a/docs/**"] }, ["a/x.md"]), false);
        assert.equal(ifChangedSelects({ include: ["a/**"], exclude: ["**.md", "a/docs/**"] }, ["a/x.py"]), true);
        assert.equal(ifChangedSelects({ include: "a/**" }, ["a/x.md"]), true);
    });

    it("keeps the step, as the agent does, when a pattern cannot be parsed", () => {
        assert.equal(ifChangedSelects("src/{a,b", []), true);
        assert.equal(ifChangedSelects({ include: "x", exclude: ["[oops"] }, ["y"]), true);
        assert.equal(ifChangedSelects(["ok/**", 7 as unknown as string], []), true);
    });
});
