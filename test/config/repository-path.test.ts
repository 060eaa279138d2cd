import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pathProblem } from "../../components/config/repository-path";

describe("pathProblem", () => {
    it("refuses paths that are empty or have empty, . or .. segments", () => {
        assert.equal(pathProblem(""), "is empty");
        assert.equal(pathProblem("a//b"), "must not contain an empty segment (//)");
        assert.equal(pathProblem("a/../b"), "must not contain . or .. segments");
        assert.equal(pathProblem("a/~/b"), undefined);
    });

    it("refuses an absolute path, a trailing / and a first ~ segment; accepts a plain relative path", () => {
        assert.equal(pathProblem("/srv/app"), "must be relative to the repository root (no leading /)");
        assert.equal(pathProblem("apps/web/"), "must not end with /");
        assert.equal(pathProblem("~/app"), "must not start with a ~ segment (zzglob expands ~/ to the home directory)");
        assert.equal(pathProblem("apps/web"), undefined);
    });
});
