/**
 * Shared fixtures for the hook tests: a real S3 server (s3rver) on 127.0.0.1, the real AWS
 * CLI v2 (/usr/bin/aws), fakes for docker, buildkite-agent and df that log their argv, and a
 * runner for the real scripts under bash.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
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
import { allowlistObjectContent, type FleetAllowlist } from "../../components/hooks/allowlist";
import { allowlistObjectKey } from "../../components/hooks/bundle";

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
/**
 * The test fleet's allow-list: two pipelines of one repository (HTTPS), and one of another owner over SSH, as
 * fleetAllowlist makes them from the config (each pipeline's checkoutUrl).
 */
export const ALLOWLIST: FleetAllowlist = {
    pipelines: [
        { slug: "dagster", repositoryUrls: ["git@github.com:dagster-io/dagster.git"] },
        { slug: "kolibri", repositoryUrls: ["https://github.com/learningequality/kolibri.git"] },
        { slug: "kolibri-docs", repositoryUrls: ["https://github.com/learningequality/kolibri.git"] },
    ],
};
/** The agent config the Elastic CI Stack writes, with its hooks-path under the scratch machine's root. */
export function agentConfigText(agentHooksPath: string, spawn = 1): string {
    return `name="stack-i-123-%spawn"\ntoken="${SENTINEL}"\nhooks-path="${agentHooksPath}"\nbuild-path=/var/lib/buildkite-agent/builds\nspawn=${spawn}\n`;
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

/** The role credentials the fake IMDS hands out (S3RVER's: s3rver takes any signature made with its key id). */
export const IMDS_CREDENTIALS = {
    role: "ci-platform-linux-us-east-1-role",
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    token: "IQoJb3JpZ2luX2VjEFAKE/session+token=",
};

/**
 * A fake EC2 instance metadata service that speaks IMDSv2 only (AWS EC2 User Guide, "Use the Instance Metadata
 * Service to access instance metadata"): PUT /latest/api/token with a TTL header gives a token; the role listing and
 * the role's credentials answer 401 without that token. `role: null` is an instance with no role (404).
 */
export class ImdsFixture {
    private constructor(
        private readonly server: http.Server,
        readonly endpoint: string,
        /** Every request, `METHOD PATH`. */
        readonly requests: string[],
    ) {}

    static async start(role: string | null = IMDS_CREDENTIALS.role): Promise<ImdsFixture> {
        const token = "imds-token-0123";
        const requests: string[] = [];
        const server = http.createServer((req, res) => {
            requests.push(`${req.method} ${req.url}`);
            const reply = (status: number, body: string): void => {
                res.writeHead(status, { "Content-Type": "text/plain" });
                res.end(body);
            };
            if (req.url === "/latest/api/token") {
                if (req.method !== "PUT" || req.headers["x-aws-ec2-metadata-token-ttl-seconds"] === undefined)
                    return reply(400, "");
                return reply(200, token);
            }
            if (req.headers["x-aws-ec2-metadata-token"] !== token) return reply(401, "");
            const base = "/latest/meta-data/iam/security-credentials/";
            if (role === null) return reply(404, "");
            if (req.url === base) return reply(200, role);
            if (req.url === `${base}${role}`)
                return reply(
                    200,
                    JSON.stringify({
                        Code: "Success",
                        Type: "AWS-HMAC",
                        AccessKeyId: IMDS_CREDENTIALS.accessKeyId,
                        SecretAccessKey: IMDS_CREDENTIALS.secretAccessKey,
                        Token: IMDS_CREDENTIALS.token,
                        Expiration: "2099-01-01T00:00:00Z",
                    }),
                );
            return reply(404, "");
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const address = server.address();
        if (address === null || typeof address === "string") throw new Error("no port");
        return new ImdsFixture(server, `http://127.0.0.1:${address.port}`, requests);
    }

    /** The hook's environment on an instance: no credentials in it, IMDS at this fixture. */
    env(): NodeJS.ProcessEnv {
        return {
            AWS_ACCESS_KEY_ID: undefined,
            AWS_SECRET_ACCESS_KEY: undefined,
            AWS_EC2_METADATA_DISABLED: undefined,
            AWS_EC2_METADATA_SERVICE_ENDPOINT: this.endpoint,
        };
    }

    async stop(): Promise<void> {
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
}

/** What a fleet uploads: the bundle, its rendered bootstrap script, and its allow-list object (key and content). */
export interface Upload {
    readonly bundle: HooksBundle;
    readonly bootstrap: BootstrapScript;
    readonly allowlist: { readonly key: string; readonly content: string };
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
    options: {
        allowlist?: FleetAllowlist;
        hookFiles?: readonly HookSourceFile[];
        agentsPerInstance?: number;
        stepsUseInstanceRole?: boolean;
    } = {},
): Promise<Upload> {
    const hookFiles = options.hookFiles ?? readHookSources(HOOKS_DIR);
    const bundle = buildHooksBundle({ hookFiles });
    const bootstrap = renderBootstrapScript({
        hookFiles,
        bucket,
        region: REGION,
        bundleHash: bundle.hash,
        bundlePrefix: hooksKeyPrefix(bundle.hash),
        fleet: {
            ...FLEET,
            agentsPerInstance: options.agentsPerInstance ?? FLEET.agentsPerInstance,
            stepsUseInstanceRole: options.stepsUseInstanceRole,
        },
        disk: { minFreeGb: 10, pruneAbovePercent: 80 },
        allowlist: options.allowlist ?? ALLOWLIST,
        allowlistKey: allowlistObjectKey(FLEET.name),
    });
    // The fleet's allow-list object, as AgentFleet uploads it (components/agents/agent-fleet.ts).
    const allowlist = {
        key: allowlistObjectKey(FLEET.name),
        content: allowlistObjectContent(options.allowlist ?? ALLOWLIST),
    };
    await s3.createBucket(bucket);
    const objects = hookObjects(secretsBucketName(REGION), bundleUploadFiles(bundle));
    await Promise.all([
        ...objects.map((object) => s3.put(bucket, object.key, object.content)),
        s3.put(bucket, bootstrap.key, bootstrap.content),
        s3.put(bucket, allowlist.key, allowlist.content),
    ]);
    return { bundle, bootstrap, allowlist };
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

    /** Where the hooks keep their job markers (CI_PLATFORM_STATE_DIR). */
    readonly hookState: string;
    /** Where bootstrap.sh writes systemd units (CI_PLATFORM_SYSTEMD_DIR; /etc/systemd/system on an instance). */
    readonly systemdDir: string;

    /** @param options.spawn The agent config's `spawn=`, as the Elastic CI Stack writes AgentsPerInstance. @default 1 */
    constructor(options: { spawn?: number } = {}) {
        this.root = fs.mkdtempSync(path.join(os.tmpdir(), "ci-hooks-machine-"));
        this.installRoot = path.join(this.root, "etc/ci-platform");
        this.agentConfig = path.join(this.root, "etc/buildkite-agent/buildkite-agent.cfg");
        this.agentHooksPath = path.join(this.root, "etc/buildkite-agent/hooks");
        this.hookState = path.join(this.root, "var/lib/buildkite-agent/ci-platform");
        this.systemdDir = path.join(this.root, "etc/systemd/system");
        this.agentConfigText = agentConfigText(this.agentHooksPath, options.spawn ?? 1);
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
            CI_PLATFORM_STATE_DIR: this.hookState,
            CI_PLATFORM_SYSTEMD_DIR: this.systemdDir,
            MY_SECRET_TOKEN: SENTINEL,
            ...extra,
        };
    }

    /** Fetches the bootstrap object and pipes it to bash, as the Elastic CI Stack does at boot. */
    async bootstrap(s3: S3Fixture, bucket: string, key: string, endpoint = s3.endpoint): Promise<RunResult> {
        const script = await s3.get(bucket, key);
        return runBash([], this.env({ AWS_ENDPOINT_URL: endpoint }), script);
    }

    /**
     * A reboot as far as the fake tools can tell: the kernel's iptables rules are gone and no unit is active; then
     * systemd starts every enabled unit (the fake systemctl runs its ExecStart=), with EXTRA in the environment.
     * Resolves to the boot's result.
     */
    async reboot(extra: NodeJS.ProcessEnv = {}): Promise<RunResult> {
        fs.rmSync(path.join(this.state, "iptables"), { recursive: true, force: true });
        fs.rmSync(path.join(this.state, "systemd", "active"), { recursive: true, force: true });
        const boot =
            'cd "$FAKE_STATE/systemd/enabled" 2>/dev/null || exit 0; for u in *; do [[ -e "$u" ]] || continue; systemctl start "$u" || exit 1; done';
        return runBash(["-c", boot], this.env(extra));
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

    /** Replaces what the fake docker daemon holds (its state file: test/hooks/fake-docker.bash). */
    setDocker(state: Partial<DockerState>): void {
        const labels = (o: FakeObject) => Object.entries(o.labels).map(([k, v]) => `${k}=${v}`);
        const line = (kind: keyof DockerState, fields: readonly (string | readonly string[])[]) =>
            [kind, ...fields].map((f) => (typeof f === "string" ? f : f.join(RS))).join(US) + "\n";
        fs.writeFileSync(
            path.join(this.state, "docker.state"),
            [
                ...(state.containers ?? []).map((c) =>
                    line("containers", [c.id, c.status, c.networks ?? [], c.volumes ?? [], labels(c)]),
                ),
                ...(state.networks ?? []).map((n) => line("networks", [n.id, "", "", "", labels(n)])),
                ...(state.volumes ?? []).map((v) => line("volumes", [v.id, "", "", "", labels(v)])),
            ].join(""),
        );
    }

    /** What the fake docker daemon holds now. */
    docker(): DockerState {
        const file = path.join(this.state, "docker.state");
        const state: { containers: FakeContainer[]; networks: FakeObject[]; volumes: FakeObject[] } = {
            containers: [],
            networks: [],
            volumes: [],
        };
        if (!fs.existsSync(file)) return state;
        const list = (text: string) => (text === "" ? [] : text.split(RS));
        for (const line of fs.readFileSync(file, "utf8").split("\n")) {
            if (line === "") continue;
            const [kind, id, status, networks, volumes, labelText] = line.split(US);
            const labels = Object.fromEntries(
                list(labelText).map((l) =>
                    l.includes("=") ? [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] : [l, ""],
                ),
            );
            if (kind === "containers")
                state.containers.push({
                    id,
                    labels,
                    status: status as FakeContainer["status"],
                    networks: list(networks),
                    volumes: list(volumes),
                });
            else state[kind as "networks" | "volumes"].push({ id, labels });
        }
        return state;
    }

    /** Runs the fake docker CLI, as a job's command would (`docker run --label ... -d image`). */
    async dockerCli(args: readonly string[]): Promise<string> {
        const result = await runBash(["-c", 'docker "$@"', "docker", ...args], this.env());
        if (result.code !== 0) throw new Error(`docker ${args.join(" ")}: ${result.stderr}`);
        return result.stdout.trim();
    }

    /** Sets what the fake df reports for every path. */
    setDisk(availableKiB: number, usedPercent: number): void {
        fs.writeFileSync(path.join(this.state, "df"), `${availableKiB} ${usedPercent}\n`);
    }

    remove(): void {
        fs.rmSync(this.root, { recursive: true, force: true });
    }
}

/** A container the fake docker daemon holds. */
export interface FakeContainer {
    readonly id: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly status: "created" | "running" | "exited";
    /** Names of the networks and volumes it uses: prune keeps those. */
    readonly networks?: readonly string[];
    readonly volumes?: readonly string[];
}
/** A network or volume the fake docker daemon holds. */
export interface FakeObject {
    readonly id: string;
    readonly labels: Readonly<Record<string, string>>;
}
/** The fake docker daemon's state, as {@link Machine.docker} reads it from `$FAKE_STATE/docker.state`. */
export interface DockerState {
    readonly containers: FakeContainer[];
    readonly networks: FakeObject[];
    readonly volumes: FakeObject[];
}

/** The fake docker CLI (bash), and the separators of its state file. */
const FAKE_DOCKER = path.join(__dirname, "fake-docker.bash");
const US = "\x1f";
const RS = "\x1e";

/** Writes fake docker, buildkite-agent and df into BIN: each appends its argv to $FAKE_LOG. */
function writeFakes(bin: string): void {
    fs.copyFileSync(FAKE_DOCKER, path.join(bin, "docker"));
    fs.chmodSync(path.join(bin, "docker"), 0o755);
    const fakes: Record<string, string> = {
        "buildkite-agent": 'echo "buildkite-agent $*" >>"$FAKE_LOG"',
        // The filter table: one file per chain under $FAKE_STATE/iptables, one rule a line, newest -I first. Only
        // calls that change it are logged (a rerun that only checks leaves the machine as it was).
        // FAKE_IPTABLES_FAIL=1 makes every call fail, as without the permission.
        iptables: [
            'case " $* " in *" -L "* | *" -C "*) ;; *) echo "iptables $*" >>"$FAKE_LOG" ;; esac',
            '[[ "${FAKE_IPTABLES_FAIL:-}" != 1 ]] || { echo "iptables: Permission denied" >&2; exit 4; }',
            'dir="$FAKE_STATE/iptables"; mkdir -p "$dir"',
            'args=(); for a in "$@"; do [[ "$a" == -w || "$a" == -n ]] || args+=("$a"); done',
            'op="${args[0]}"; chain="$dir/${args[1]}"; rest=("${args[@]:2}")',
            'if [[ "$op" == -I && "${rest[0]:-}" =~ ^[0-9]+$ ]]; then rest=("${rest[@]:1}"); fi',
            'rule="${rest[*]}"',
            'case "$op" in',
            '-L) [[ -f "$chain" ]] || { echo "iptables: No chain/target/match by that name." >&2; exit 1; } ;;',
            '-N) [[ ! -f "$chain" ]] || { echo "iptables: Chain already exists." >&2; exit 1; }; : >"$chain" ;;',
            '-C) [[ -f "$chain" ]] && grep -qxF -- "$rule" "$chain" || { echo "iptables: Bad rule." >&2; exit 1; } ;;',
            '-I) [[ -f "$chain" ]] || exit 1; { echo "$rule"; cat "$chain"; } >"$chain.new"; mv "$chain.new" "$chain" ;;',
            '*) echo "fake iptables: unsupported $op" >&2; exit 2 ;;',
            "esac",
        ].join("\n"),
        // systemd, for the units bootstrap.sh installs: unit files in $CI_PLATFORM_SYSTEMD_DIR, enabled and active
        // units as marker files under $FAKE_STATE/systemd. `start` runs the unit's ExecStart= commands (a oneshot) and
        // fails when one does, as systemd does; a started unit stays active (RemainAfterExit=yes). Only calls that
        // change something are logged.
        systemctl: [
            'case "$1" in is-enabled | is-active) ;; *) echo "systemctl $*" >>"$FAKE_LOG" ;; esac',
            'dir="$FAKE_STATE/systemd"; mkdir -p "$dir/enabled" "$dir/active"',
            'args=(); for a in "$@"; do [[ "$a" == --quiet ]] || args+=("$a"); done',
            'op="${args[0]}"; unit="${args[1]:-}"; file="$CI_PLATFORM_SYSTEMD_DIR/$unit"',
            'case "$op" in',
            "daemon-reload) ;;",
            'is-enabled) [[ -f "$dir/enabled/$unit" ]] ;;',
            'is-active) [[ -f "$dir/active/$unit" ]] ;;',
            'enable) [[ -f "$file" ]] || { echo "Unit file $unit does not exist." >&2; exit 1; }; : >"$dir/enabled/$unit" ;;',
            "start)",
            '  [[ -f "$file" ]] || { echo "Unit $unit not found." >&2; exit 5; }',
            '  [[ ! -f "$dir/active/$unit" ]] || exit 0',
            "  while IFS= read -r line; do",
            '    [[ "$line" == ExecStart=* ]] || continue',
            '    read -r -a cmd <<<"${line#ExecStart=}"',
            '    "${cmd[@]}" || { echo "Job for $unit failed." >&2; exit 1; }',
            '  done <"$file"',
            '  : >"$dir/active/$unit" ;;',
            '*) echo "fake systemctl: unsupported $op" >&2; exit 2 ;;',
            "esac",
        ].join("\n"),
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
