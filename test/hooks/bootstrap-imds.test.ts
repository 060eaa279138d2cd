/**
 * bootstrap.sh keeps Docker step containers away from the instance role: it rejects their traffic to the instance
 * metadata service in DOCKER-USER before any agent starts, and again at every boot from a systemd unit, unless the fleet's config says its steps need the
 * role (fleets[].stepsUseInstanceRole). Run as the Elastic CI Stack runs it, with a fake iptables that keeps the
 * filter table's chains as files, and a fake systemctl that runs a unit's ExecStart=.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { lastLine, Machine, runBash, S3Fixture, uploadBundle } from "./harness";

const RULE = "-d 169.254.169.254/32 -j REJECT";
const UNIT = "ci-platform-imds-block.service";

/** The rules of a chain of the fake iptables, first first; undefined when the chain does not exist. */
function chain(machine: Machine, name: string): string[] | undefined {
    const file = path.join(machine.state, "iptables", name);
    return fs.existsSync(file)
        ? fs
              .readFileSync(file, "utf8")
              .split("\n")
              .filter((l) => l !== "")
        : undefined;
}

describe("bootstrap.sh: step containers and the instance role", { timeout: 120_000, concurrency: true }, () => {
    let s3: S3Fixture;
    const machines: Machine[] = [];
    const machine = (): Machine => {
        const m = new Machine();
        machines.push(m);
        return m;
    };
    before(async () => {
        s3 = await S3Fixture.start();
    });
    after(async () => {
        await s3.stop();
        machines.forEach((m) => m.remove());
    });

    it("rejects container traffic to IMDS ahead of docker's own DOCKER-USER rules, and a second run adds nothing", async () => {
        const { bootstrap } = await uploadBundle(s3, "imds-default");
        const m = machine();
        // Docker is up: its DOCKER-USER chain holds the RETURN rule it adds.
        fs.mkdirSync(path.join(m.state, "iptables"));
        fs.writeFileSync(path.join(m.state, "iptables", "DOCKER-USER"), "-j RETURN\n");
        const first = await m.bootstrap(s3, "imds-default", bootstrap.key);
        assert.equal(first.code, 0, first.stderr);
        assert.deepEqual(chain(m, "DOCKER-USER"), [RULE, "-j RETURN"]);
        assert.match(first.stdout, /Step containers cannot reach IMDS \(169\.254\.169\.254\/32\)/);
        const iptables = m.calls().filter((c) => c.startsWith("iptables "));
        assert.ok(iptables.includes(`iptables -w -I DOCKER-USER 1 ${RULE}`), iptables.join("\n"));
        assert.ok(
            iptables.every((c) => / -w /.test(c)),
            "every call waits for the xtables lock (-w)",
        );

        const second = await m.bootstrap(s3, "imds-default", bootstrap.key);
        assert.equal(second.code, 0, second.stderr);
        assert.deepEqual(chain(m, "DOCKER-USER"), [RULE, "-j RETURN"]);
        assert.match(second.stdout, /already cannot reach IMDS/);
    });

    it("creates DOCKER-USER when docker has not yet (docker keeps a chain that exists)", async () => {
        const { bootstrap } = await uploadBundle(s3, "imds-no-chain");
        const m = machine();
        const result = await m.bootstrap(s3, "imds-no-chain", bootstrap.key);
        assert.equal(result.code, 0, result.stderr);
        assert.ok(m.calls().includes("iptables -w -N DOCKER-USER"));
        assert.deepEqual(chain(m, "DOCKER-USER"), [RULE]);
    });

    it("blocks before it installs anything: when iptables fails, bootstrap fails and no hook is installed", async () => {
        const { bootstrap } = await uploadBundle(s3, "imds-fails");
        const m = machine();
        const script = await s3.get("imds-fails", bootstrap.key);
        const result = await runBash([], m.env({ AWS_ENDPOINT_URL: s3.endpoint, FAKE_IPTABLES_FAIL: "1" }), script);
        assert.notEqual(result.code, 0);
        assert.match(result.stderr, /bootstrap failed: cannot create the iptables chain DOCKER-USER/);
        assert.equal(fs.existsSync(m.hooksDir), false, "hooks were installed");
        assert.equal(fs.readFileSync(m.agentConfig, "utf8"), m.agentConfigText, "agent config changed");
    });

    it("fails when there is no iptables, naming the flag that runs without the block", async () => {
        const { bootstrap } = await uploadBundle(s3, "imds-missing");
        const m = machine();
        fs.rmSync(path.join(m.bin, "iptables"));
        const result = await m.bootstrap(s3, "imds-missing", bootstrap.key);
        assert.notEqual(result.code, 0);
        assert.match(result.stderr, /iptables not found: .*stepsUseInstanceRole: true/);
        assert.equal(fs.existsSync(m.hooksDir), false, "hooks were installed");
    });

    it("puts the block back at every boot: a oneshot unit before docker and the agent, enabled and started once", async () => {
        const { bootstrap } = await uploadBundle(s3, "imds-reboot");
        const m = machine();
        const first = await m.bootstrap(s3, "imds-reboot", bootstrap.key);
        assert.equal(first.code, 0, first.stderr);
        const unit = fs.readFileSync(path.join(m.systemdDir, UNIT), "utf8").split("\n");
        for (const line of [
            "Before=docker.service buildkite-agent.service",
            "Type=oneshot",
            "RemainAfterExit=yes",
            `ExecStart=${path.join(m.installRoot, "block-container-imds")}`,
            "WantedBy=multi-user.target",
            // Fail closed: when the unit fails at boot, systemd starts neither docker nor the agent.
            "RequiredBy=docker.service buildkite-agent.service",
        ]) {
            assert.ok(unit.includes(line), `the unit has no ${line}`);
        }
        const script = path.join(m.installRoot, "block-container-imds");
        assert.equal(fs.statSync(script).mode & 0o777, 0o755);
        const lint = spawnSync("shellcheck", ["--shell=bash", script], { encoding: "utf8" });
        assert.equal(lint.status, 0, lint.stdout);
        assert.deepEqual(
            m.calls().filter((c) => c.startsWith("systemctl ")),
            ["systemctl daemon-reload", `systemctl enable ${UNIT}`, `systemctl start ${UNIT}`],
        );

        // A reboot empties the kernel's rules; the unit puts the rule back before docker starts.
        const boot = await m.reboot();
        assert.equal(boot.code, 0, boot.stderr);
        assert.deepEqual(chain(m, "DOCKER-USER"), [RULE]);
        assert.match(boot.stdout, /Step containers cannot reach IMDS \(169\.254\.169\.254\/32\)/);

        // A second bootstrap run leaves the installed, enabled, active unit alone.
        m.clearCalls();
        const second = await m.bootstrap(s3, "imds-reboot", bootstrap.key);
        assert.equal(second.code, 0, second.stderr);
        assert.deepEqual(m.calls(), []);
        assert.deepEqual(chain(m, "DOCKER-USER"), [RULE]);
    });

    it("fails closed at boot: the unit fails when iptables does, so systemd starts neither docker nor the agent", async () => {
        const { bootstrap } = await uploadBundle(s3, "imds-boot-fails");
        const m = machine();
        assert.equal((await m.bootstrap(s3, "imds-boot-fails", bootstrap.key)).code, 0);
        const boot = await m.reboot({ FAKE_IPTABLES_FAIL: "1" });
        assert.notEqual(boot.code, 0);
        assert.match(
            boot.stderr,
            /ci-platform: block-container-imds failed: cannot create the iptables chain DOCKER-USER/,
        );
        assert.equal(fs.existsSync(path.join(m.state, "systemd", "active", UNIT)), false, "the unit is active");
    });

    it("fails closed when systemd cannot take the unit: the block would not survive a reboot", async () => {
        const { bootstrap } = await uploadBundle(s3, "imds-no-systemd");
        const m = machine();
        // As in a container without systemd as init: systemctl answers, and fails.
        fs.writeFileSync(path.join(m.bin, "systemctl"), "#!/bin/bash\necho 'Failed to connect to bus' >&2\nexit 1\n");
        const result = await m.bootstrap(s3, "imds-no-systemd", bootstrap.key);
        assert.notEqual(result.code, 0);
        assert.match(
            lastLine(result.stderr),
            /bootstrap failed: systemctl daemon-reload failed after writing .*ci-platform-imds-block\.service$/,
        );
        assert.equal(fs.existsSync(m.hooksDir), false, "hooks were installed");
    });

    it("leaves IMDS open to step containers on a fleet whose config says its steps use the instance role", async () => {
        const { bootstrap } = await uploadBundle(s3, "imds-open", { stepsUseInstanceRole: true });
        assert.match(bootstrap.content, /^readonly CI_PLATFORM_STEPS_USE_INSTANCE_ROLE='true'$/m);
        const m = machine();
        const result = await m.bootstrap(s3, "imds-open", bootstrap.key);
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(
            m.calls().filter((c) => c.startsWith("iptables")),
            [],
        );
        assert.equal(chain(m, "DOCKER-USER"), undefined, "the filter table was touched");
        assert.deepEqual(
            m.calls().filter((c) => c.startsWith("systemctl")),
            [],
        );
        assert.equal(fs.existsSync(path.join(m.systemdDir, UNIT)), false, "the unit was installed");
        assert.match(result.stdout, /IMDS stays open to them/);
        assert.ok(fs.existsSync(m.hooksDir), "hooks are installed as usual");
    });
});
