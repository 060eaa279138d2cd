import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatConfigPath } from "../../components/config";
import { imageRefIssues } from "../../components/images/config-checks";
import { mustParse, validRawConfig } from "../fixtures/config";

describe("imageRefIssues", () => {
    it("finds nothing when every pipeline and package names a declared image and variant", () => {
        assert.deepEqual(imageRefIssues(mustParse(validRawConfig())), []);
    });

    it("reports an unknown image and an unknown variant, of a pipeline and of a package, with suggestions", () => {
        const config = mustParse(validRawConfig());
        config.pipelines[0].image = { name: "buildkite-tset", variant: "py3.12" };
        const mono = config.pipelines[4];
        mono.packages[1].image = { name: "buildkite-test", variant: "py3.13" };
        const issues = imageRefIssues(config);
        assert.deepEqual(
            issues.map((i) => [formatConfigPath(i.path), i.message, i.unknownName]),
            [
                [
                    "ci-platform:pipelines[0].image.name",
                    'unknown image "buildkite-tset"; did you mean "buildkite-test"? declared images: buildkite-test',
                    "buildkite-tset",
                ],
                [
                    "ci-platform:pipelines[4].packages[1].image.variant",
                    'image "buildkite-test" has no variant "py3.13"; did you mean "py3.11"? its variants: py3.11, py3.12',
                    undefined,
                ],
            ],
        );
        assert.match(issues[1].fix ?? "", /add "py3.13" to the image's variants/);
    });

    it("says when no image is declared at all", () => {
        const config = mustParse(validRawConfig());
        config.images = [];
        assert.match(imageRefIssues(config)[0].message, /declared images: none$/);
    });
});
