import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { formatIssue } from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import { rawPlatformConfig } from "../../scripts/plan/run";
import { syntheticOrganization } from "../../scripts/bench/synthetic";
import { readStackFile } from "../../scripts/plan/stack-file";
import { ROOT } from "../fixtures/cli";

describe("the benchmark's synthetic organisations", () => {
    it("are valid configs, so `npm run bench` measures plans rather than config errors", () => {
        const prod = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as {
            config: Record<string, unknown>;
        };
        const dir = mkdtempSync(path.join(tmpdir(), "bench-synthetic-"));
        for (const size of [10, 137]) {
            // As scripts/bench.ts does: a stack file, read the way the plan reads one.
            const file = path.join(dir, `Pulumi.bench-${size}.yaml`);
            writeFileSync(file, stringify({ config: syntheticOrganization(prod.config, size) }));
            const parsed = parsePlatformConfig(rawPlatformConfig(readStackFile(file)));
            assert.ok(parsed.ok, parsed.ok ? "" : parsed.error.map(formatIssue).slice(0, 3).join("\n"));
            assert.equal(parsed.value.pipelines.length, size);
        }
    });
});
