/**
 * Shared fixtures for the hook tests: a real S3 server (s3rver) on 127.0.0.1, the real AWS
 * CLI v2 (/usr/bin/aws), fakes for docker, buildkite-agent and df that log their argv, and a
 * runner for the real scripts under bash.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import S3rver from "s3rver";
import { hookObjects } from "../../components/agents/hook-objects";
import { hooksKeyPrefix, secretsBucketName } from "../../components/agents/naming";
import {
    buildHooksBundle,
    bundleUploadFiles,
    readHookSources,
    renderBootstrapScript,
    type BootstrapScript,
    type HooksBundle,
    type HookSourceFile,
} from "../../components/hooks/bundle";

export const REPO_ROOT = path.resolve(__dirname, "../..");
export const HOOKS_DIR = path.join(REPO_ROOT, "hooks");
/** AWS CLI v2 from Debian's awscli; a pip-installed v1 may sit earlier on the developer's PATH. */
export const AWS_CLI = "/usr/bin/aws";
/** A secret value given to every script; no output may contain it. */
export const SENTINEL = "SENTINEL-SECRET-7f3a";
export const REGION = "us-east-1";
export const FLEET = {
    name: "linux-us-east-1",
    queue: "default",
    region: REGION,
    ecrRegistry: "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    agentsPerInstance: 1,
};
export const ALLOWED = ["learningequality/kolibri", "dagster-io/Dagster"];
/** The agent config the Elastic CI Stack writes, with its hooks-path under the scratch machine's root. */
export function agentConfigText(agentHooksPath: string): string {
    return `name="stack-i-123-%spawn"\ntoken="${SENTINEL}"\nhooks-path="${agentHooksPath}"\nbuild-path=/var/lib/buildkite-agent/builds\n`;
}

export interface RunResult {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs bash with the given arguments and stdin (none if undefined), asynchronously: s3rver lives in this process. */
export function runBash(args: readonly string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn("bash", args, { env, stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
        child.stdin?.end(stdin);
    });
}

/** The last non-empty line of a stream. */
export function lastLine(text: string): string {
    const lines = text.split("\n").filter((l) => l !== "");
    return lines[lines.length - 1] ?? "";
}

/** A started s3rver, with helpers to write objects as the fleet's Pulumi program would. */
export class S3Fixture {
    private constructor(
        private readonly server: S3rver,
        readonly endpoint: string,
        readonly dir: string,
    ) {}

    static async start(): Promise<S3Fixture> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ci-hooks-s3-"));
        const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: dir });
        const { port } = await server.run();
        return new S3Fixture(server, `http://127.0.0.1:${port}`, dir);
    }

    async stop(): Promise<void> {
        await this.server.close();
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    /** Creates BUCKET unless it exists. */
    async createBucket(bucket: string): Promise<void> {
        const response = await fetch(`${this.endpoint}/${bucket}`, { method: "PUT" });
        await response.text();
        if (!response.ok && response.status !== 409) {
            throw new Error(`PUT /${bucket}: HTTP ${response.status}`);
        }
    }

    async put(bucket: string, key: string, content: string): Promise<void> {
        await this.request("PUT", `/${bucket}/${key}`, content);
    }

    async get(bucket: string, key: string): Promise<string> {
        return this.request("GET", `/${bucket}/${key}`);
    }

    async delete(bucket: string, key: string): Promise<void> {
        await this.request("DELETE", `/${bucket}/${key}`);
    }

    private async request(method: string, urlPath: string, body?: string): Promise<string> {
        const response = await fetch(`${this.endpoint}${urlPath}`, { method, body });
        const text = await response.text();
        if (!response.ok) {
            throw new Error(`${method} ${urlPath}: HTTP ${response.status} ${text}`);
        }
        return text;
    }
}

/** What a fleet uploads: the bundle and its rendered bootstrap script. */
export interface Upload {
    readonly bundle: HooksBundle;
    readonly bootstrap: BootstrapScript;
}

/**
 * Builds the bundle from the real hooks/ and uploads it to BUCKET the way the program does: index.ts hands
 * `bundleUploadFiles(bundle)` to the agents module, whose SecretsBucket uploads `hookObjects(...)`, and the fleet
 * renders its bootstrap script with the SecretsBucket's `hooksPrefix`. Same functions here, so a test passes only
 * when the uploader's keys and the installer's agree.
 */
export async function uploadBundle(
    s3: S3Fixture,
    bucket: string,
    options: { allowed?: readonly string[]; hookFiles?: readonly HookSourceFile[]; agentsPerInstance?: number } = {},
): Promise<Upload> {
    const hookFiles = options.hookFiles ?? readHookSources(HOOKS_DIR);
    const bundle = buildHooksBundle({ hookFiles, allowedRepositories: options.allowed ?? ALLOWED });
    const bootstrap = renderBootstrapScript({
        hookFiles,
        bucket,
        region: REGION,
        bundleHash: bundle.hash,
        bundlePrefix: hooksKeyPrefix(bundle.hash),
        fleet: { ...FLEET, agentsPerInstance: options.agentsPerInstance ?? FLEET.agentsPerInstance },
        disk: { minFreeGb: 10, pruneAbovePercent: 80 },
    });
    await s3.createBucket(bucket);
    const objects = hookObjects(secretsBucketName(REGION), bundleUploadFiles(bundle));
    await Promise.all([
        ...objects.map((object) => s3.put(bucket, object.key, object.content)),
        s3.put(bucket, bootstrap.key, bootstrap.content),
    ]);
    return { bundle, bootstrap };
}

/** A scratch machine: install root, agent config, fakes on PATH, and the env the scripts get. */
export class Machine {
    readonly root: string;
    readonly installRoot: string;
    readonly agentConfig: string;
    /** The agent's hooks-path (the stack's own hooks), where bootstrap.sh puts its pre-bootstrap. */
    readonly agentHooksPath: string;
    /** What the agent config holds before bootstrap.sh runs. */
    readonly agentConfigText: string;
    readonly bin: string;
    readonly log: string;
    readonly state: string;

    constructor() {
        this.root = fs.mkdtempSync(path.join(os.tmpdir(), "ci-hooks-machine-"));
        this.installRoot = path.join(this.root, "etc/ci-platform");
        this.agentConfig = path.join(this.root, "etc/buildkite-agent/buildkite-agent.cfg");
        this.agentHooksPath = path.join(this.root, "etc/buildkite-agent/hooks");
        this.agentConfigText = agentConfigText(this.agentHooksPath);
        this.bin = path.join(this.root, "bin");
        this.log = path.join(this.root, "calls.log");
        this.state = path.join(this.root, "state");
        fs.mkdirSync(path.dirname(this.agentConfig), { recursive: true });
        fs.mkdirSync(this.agentHooksPath);
        fs.writeFileSync(this.agentConfig, this.agentConfigText, { mode: 0o600 });
        fs.mkdirSync(this.bin);
        fs.mkdirSync(this.state);
        writeFakes(this.bin);
        fs.symlinkSync(AWS_CLI, path.join(this.bin, "aws"));
    }

    /** The environment every script runs with; EXTRA may override or add. */
    env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
        return {
            PATH: `${this.bin}:/usr/bin:/bin`,
            HOME: this.root,
            LANG: "C.UTF-8",
            FAKE_LOG: this.log,
            FAKE_STATE: this.state,
            AWS_ACCESS_KEY_ID: "S3RVER",
            AWS_SECRET_ACCESS_KEY: "S3RVER",
            AWS_DEFAULT_REGION: REGION,
            AWS_CONFIG_FILE: path.join(this.root, "no-aws-config"),
            AWS_SHARED_CREDENTIALS_FILE: path.join(this.root, "no-aws-credentials"),
            AWS_EC2_METADATA_DISABLED: "true",
            CI_PLATFORM_INSTALL_ROOT: this.installRoot,
            CI_PLATFORM_AGENT_CONFIG: this.agentConfig,
            MY_SECRET_TOKEN: SENTINEL,
            ...extra,
        };
    }

    /** Fetches the bootstrap object and pipes it to bash, as the Elastic CI Stack does at boot. */
    async bootstrap(s3: S3Fixture, bucket: string, key: string, endpoint = s3.endpoint): Promise<RunResult> {
        const script = await s3.get(bucket, key);
        return runBash([], this.env({ AWS_ENDPOINT_URL: endpoint }), script);
    }

    /** The installed hooks directory (a symlink to the current release). */
    get hooksDir(): string {
        return path.join(this.installRoot, "hooks");
    }

    /** Lines the fakes logged, each `<tool> <argv...>`. */
    calls(): string[] {
        return fs.existsSync(this.log)
            ? fs
                  .readFileSync(this.log, "utf8")
                  .split("\n")
                  .filter((l) => l !== "")
            : [];
    }

    clearCalls(): void {
        fs.rmSync(this.log, { force: true });
    }

    /** Sets what `docker ps|network ls|volume ls` list (one id a line). */
    setDocker(kind: "containers" | "networks" | "volumes", ids: readonly string[]): void {
        fs.writeFileSync(path.join(this.state, kind), ids.map((id) => `${id}\n`).join(""));
    }

    /** Sets what the fake df reports for every path. */
    setDisk(availableKiB: number, usedPercent: number): void {
        fs.writeFileSync(path.join(this.state, "df"), `${availableKiB} ${usedPercent}\n`);
    }

    remove(): void {
        fs.rmSync(this.root, { recursive: true, force: true });
    }
}

/** Writes fake docker, buildkite-agent and df into BIN: each appends its argv to $FAKE_LOG. */
function writeFakes(bin: string): void {
    const fakes: Record<string, string> = {
        docker: [
            'echo "docker $*" >>"$FAKE_LOG"',
            'case "$1 ${2:-}" in',
            '    "ps "*) cat "$FAKE_STATE/containers" 2>/dev/null || true ;;',
            '    "network ls") cat "$FAKE_STATE/networks" 2>/dev/null || true ;;',
            '    "volume ls") cat "$FAKE_STATE/volumes" 2>/dev/null || true ;;',
            "esac",
        ].join("\n"),
        "buildkite-agent": 'echo "buildkite-agent $*" >>"$FAKE_LOG"',
        df: [
            'echo "df $*" >>"$FAKE_LOG"',
            'read -r avail pct <"$FAKE_STATE/df"',
            'echo "Filesystem 1024-blocks Used Available Capacity Mounted on"',
            'echo "/dev/fake 104857600 1 $avail $pct% /"',
        ].join("\n"),
    };
    for (const [name, body] of Object.entries(fakes)) {
        fs.writeFileSync(path.join(bin, name), `#!/bin/bash\nset -euo pipefail\n${body}\n`, { mode: 0o755 });
    }
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (address === null || typeof address === "string") {
        throw new Error("no port");
    }
    return address.port;
}

/** Every file under DIR (following the hooks symlink) with content, mode, inode and mtime. */
export function snapshotTree(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (p: string): void => {
        const st = fs.lstatSync(p);
        const rel = path.relative(dir, p) || ".";
        if (st.isSymbolicLink()) {
            out[rel] = `link ${fs.readlinkSync(p)} ${st.ino} ${st.mtimeMs}`;
        } else if (st.isDirectory()) {
            out[rel] = `dir ${(st.mode & 0o777).toString(8)} ${st.ino}`;
            for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e));
        } else {
            out[rel] = `file ${(st.mode & 0o777).toString(8)} ${st.ino} ${st.mtimeMs} ${fs.readFileSync(p, "utf8")}`;
        }
    };
    walk(dir);
    return out;
}
