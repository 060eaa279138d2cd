import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";

const ROOT = path.resolve(__dirname, "../..");
const run = promisify(execFile);

async function dr(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
        const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "scripts/dr.ts", ...args], {
            cwd: ROOT,
            timeout: 120_000,
        });
        return { code: 0, stdout, stderr };
    } catch (e) {
        const error = e as { code: number; stdout: string; stderr: string };
        return error;
    }
}

describe("npm run dr", () => {
    it("prints the commands that rebuild one fleet: its stack and token replaced, its region's bucket kept", async () => {
        const out = await dr("--fleet", "linux-ap-southeast-1");
        assert.equal(out.code, 0, out.stderr);
        const stack =
            "urn:pulumi:prod::ci-platform::ci-platform:agents:Fleet$aws:cloudformation/stack:Stack::linux-ap-southeast-1-stack";
        assert.match(out.stdout, /Recovery of fleet linux-ap-southeast-1 in stack prod/);
        const up = out.stdout.split("\n").find((l) => l.includes("pulumi up --stack 'prod'"));
        assert.ok(up, "a pulumi up command");
        assert.ok(up.includes(`--replace '${stack}'`), "the fleet's stack is replaced");
        assert.ok(
            !up.includes(
                "--replace 'urn:pulumi:prod::ci-platform::ci-platform:agents:SecretsBucket$aws:s3/bucket:Bucket",
            ),
        );
        assert.doesNotMatch(out.stdout, /linux-us-east-1-stack/, "no other fleet is touched");
    });

    it("lists a region's stateful resources as retained, with the commands to evacuate it", async () => {
        const out = await dr("--region", "eu-west-1");
        assert.equal(out.code, 0, out.stderr);
        const retained = out.stdout.split("Recreated from config")[0];
        assert.match(retained, /aws:s3\/bucket:Bucket::secrets-eu-west-1-bucket/);
        assert.match(retained, /aws:kms\/key:Key::secrets-eu-west-1-key/);
        assert.match(out.stdout, /pulumi state unprotect --stack 'prod' --yes '[^']*secrets-eu-west-1-bucket'/);
    });

    it("names the nearest region when given one without fleets", async () => {
        const out = await dr("--region", "eu-west-2");
        assert.equal(out.code, 2);
        assert.match(out.stderr, /no AWS fleet runs in region "eu-west-2"; did you mean "eu-west-1"\?/);
    });
});
