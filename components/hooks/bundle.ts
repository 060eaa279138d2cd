/**
 * The hooks bundle: what every fleet uploads to its region's secrets bucket, and the
 * bootstrap script that installs it on an instance (hooks/bootstrap.sh, rendered).
 *
 * Pure: data in, data out. Only {@link readHookSources} touches the file system.
 *
 * Layout in the bucket, all under {@link PLATFORM_KEY_PREFIX} (`_ci-platform/`: the rest of the
 * bucket is the Elastic CI Stack's secrets, `<pipeline slug>/...`, and no slug starts with `_`):
 * - `_ci-platform/hooks/<hash>/<path>` for every bundle file, and `.../SHA256SUMS`, the manifest;
 * - `_ci-platform/bootstrap/<fleet>-<sha>.sh`, the rendered bootstrap script, given to the Elastic
 *   CI Stack as `BootstrapScriptUrl`. It names the bundle hash, so a change to a hook changes its key, and with it
 *   every Linux fleet's launch template: a hook change rolls the fleets, on purpose;
 * - `_ci-platform/allowlist/<fleet>`, the fleet's allow-list ({@link allowlistObjectKey}): a fixed key, so a change to
 *   the pipelines the fleet serves updates that one object in place and changes no bootstrap script and no stack.
 *   The pre-bootstrap hook reads it at job time.
 *
 * {@link bundleKeyPrefix} and {@link bundleObjectKey} are the one definition of these keys: the
 * uploader (components/agents, SecretsBucket), the installer (bootstrap.sh, into which
 * {@link renderBootstrapScript} renders the prefix) and the fleet's IAM policy all derive from them.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { allowlistProblems, coarseAllowedRepositoriesValue, type FleetAllowlist } from "./allowlist";

/** Top-level key prefix of every ci-platform object in a secrets bucket; pipeline slugs cannot start with `_`. */
export const PLATFORM_KEY_PREFIX = "_ci-platform";
/** Key prefix of the rendered bootstrap scripts. */
export const BOOTSTRAP_KEY_PREFIX = `${PLATFORM_KEY_PREFIX}/bootstrap`;

/** Key prefix of every hooks bundle, `_ci-platform/hooks`: each bundle is under `<prefix>/<hash>`. */
export const BUNDLES_KEY_PREFIX = `${PLATFORM_KEY_PREFIX}/hooks`;

/** Hex digits of the content hash in a fleet's versioned object keys (bootstrap script, agent env file). */
const VERSION_HEX_DIGITS = 16;

/**
 * Key of one version of a fleet's boot-time object, `_ci-platform/bootstrap/<fleet>-<16 hex of sha256>.<ext>`: named
 * by its content, so a new version is a new key, and with it a new stack parameter (BootstrapScriptUrl or
 * AgentEnvFileUrl) that rolls the fleet's instances.
 */
export function fleetVersionedKey(fleetName: string, sha256: string, extension: "sh" | "env"): string {
    return `${BOOTSTRAP_KEY_PREFIX}/${fleetName}-${sha256.slice(0, VERSION_HEX_DIGITS)}.${extension}`;
}

/**
 * An IAM resource pattern for every version of a fleet's boot-time object ({@link fleetVersionedKey}). A
 * CloudFormation rollback points the instances back at an older version, which is retained: the fleet role must still
 * read it. IAM's `?` matches exactly one character (IAM User Guide, "IAM JSON policy elements: Resource", wildcards),
 * so `<fleet>-` followed by exactly 16 of them cannot match a fleet whose name has this one's as a prefix.
 */
export function fleetVersionedKeyPattern(fleetName: string, extension: "sh" | "env"): string {
    return `${BOOTSTRAP_KEY_PREFIX}/${fleetName}-${"?".repeat(VERSION_HEX_DIGITS)}.${extension}`;
}

/** Key prefix of the fleets' allow-list objects. */
export const ALLOWLIST_KEY_PREFIX = `${PLATFORM_KEY_PREFIX}/allowlist`;

/**
 * Object key of a fleet's allow-list, `_ci-platform/allowlist/<fleet>`: fixed for the fleet's (first) name, so a new
 * content is an in-place update of the same object. `key` is ForceNew in the provider's schema
 * (terraform-provider-aws internal/service/s3/object.go resourceObject: "key" ForceNew: true; `content` is not), so a
 * key that followed the content would be a replacement: a new object, then a delete of the old one.
 */
export function allowlistObjectKey(fleetName: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(fleetName)) throw new Error(`fleet name "${fleetName}" may only use [A-Za-z0-9._-]`);
    return `${ALLOWLIST_KEY_PREFIX}/${fleetName}`;
}

/** Key prefix of a hooks bundle in a secrets bucket, without a trailing slash: `_ci-platform/hooks/<hash>`. */
export function bundleKeyPrefix(bundleHash: string): string {
    return `${BUNDLES_KEY_PREFIX}/${bundleHash}`;
}

/** Object key of one bundle file (or the manifest): `_ci-platform/hooks/<hash>/<path>`. */
export function bundleObjectKey(bundleHash: string, filePath: string): string {
    return `${bundleKeyPrefix(bundleHash)}/${filePath}`;
}

/** Name of the manifest in the bundle: `<sha256>  <path>` lines, sorted by path. */
export const MANIFEST_NAME = "SHA256SUMS";
/** The installer's source file in `hooks/`; rendered, never part of the bundle. */
export const BOOTSTRAP_SOURCE = "bootstrap.sh";
/** Written on the instance by bootstrap.sh, so no bundle file may have this name. */
export const FLEET_SETTINGS_NAME = "fleet.env";
/**
 * Written on the instance by the pre-bootstrap hook: its copy of the fleet's allow-list object (`slug url` lines), so
 * no bundle file may have this name. The bundle itself is the same for every fleet.
 */
export const ALLOWED_PIPELINES_NAME = "allowed-pipelines";

const RESERVED_NAMES: readonly string[] = [MANIFEST_NAME, FLEET_SETTINGS_NAME, ALLOWED_PIPELINES_NAME];
/** Same rule as `manifest_path_ok` in hooks/lib/checksum.bash. */
const SAFE_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const SETTINGS_BLOCK = /# >>> ci-platform:settings[^\n]*\n[\s\S]*?# <<< ci-platform:settings\n/;
const LIBS_BLOCK = /# >>> ci-platform:libs[^\n]*\n([\s\S]*?)# <<< ci-platform:libs\n/;

/** A source file of `hooks/`, by its path relative to that directory (POSIX separators). */
export interface HookSourceFile {
    /** Path relative to `hooks/`, e.g. `pre-command` or `lib/s3.bash`. */
    readonly path: string;
    /** The file's text. */
    readonly content: string;
}

/** File mode of an installed bundle file: hooks are executable, everything else is not. */
export type BundleFileMode = 0o755 | 0o644;

/** One file of the bundle, installed as `<hooks dir>/<path>` and uploaded as {@link bundleObjectKey}. */
export interface BundleFile {
    /** Path relative to the bundle root. */
    readonly path: string;
    /** The file's text. */
    readonly content: string;
    /** Mode bootstrap.sh installs it with (top-level names without a dot are hooks: 0o755). */
    readonly mode: BundleFileMode;
    /** Lowercase hex SHA-256 of the UTF-8 content, as listed in the manifest. */
    readonly sha256: string;
}

/** One S3 object to upload: everything a `BucketObjectv2` needs besides the bucket. */
export interface BundleObject {
    /** Path relative to the bundle root, e.g. `pre-command` or `SHA256SUMS`. */
    readonly path: string;
    /** Object key, {@link bundleObjectKey}: `_ci-platform/hooks/<hash>/pre-command`. */
    readonly key: string;
    /** The object's text. */
    readonly content: string;
    /** MIME type to store with it. */
    readonly contentType: string;
}

/** Inputs of {@link buildHooksBundle}. */
export interface HooksBundleArgs {
    /** The sources from {@link readHookSources}; `bootstrap.sh` among them is left out of the bundle. */
    readonly hookFiles: readonly HookSourceFile[];
}

/** A content-addressed hooks bundle. The same inputs always give the same bytes and hash. */
export interface HooksBundle {
    /** The bundle's files, sorted by path, generated files included, manifest excluded. */
    readonly files: readonly BundleFile[];
    /** The manifest `SHA256SUMS`: `<sha256>  <path>\n` for every file, sorted by path. */
    readonly manifest: string;
    /** Lowercase hex SHA-256 of the manifest: the bundle's identity. */
    readonly hash: string;
    /** S3 key prefix of the bundle, {@link bundleKeyPrefix}: `_ci-platform/hooks/<hash>` (no trailing slash). */
    readonly prefix: string;
    /** Every object to upload under {@link prefix}: the files, then the manifest. */
    readonly objects: readonly BundleObject[];
}

/** The fleet values written into the bootstrap script (and from there into `fleet.env`). */
export interface BootstrapFleet {
    /** Fleet name (`ci-platform:fleets[].name`). */
    readonly name: string;
    /** Buildkite queue the fleet serves. */
    readonly queue: string;
    /** AWS region the fleet runs in. */
    readonly region: string;
    /** Region-local ECR registry host, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. */
    readonly ecrRegistry: string;
    /**
     * Agents per instance: the fleet's `AgentsPerInstance` stack parameter (`ci-platform:fleets[].agentsPerInstance`).
     * Required, with no default: a default of 1 is what let this value be dropped on its way here unnoticed. The hooks
     * treat it as a claim to check against the agent's own config on the instance (hooks/lib/docker.bash).
     */
    readonly agentsPerInstance: number;
    /**
     * Whether step containers may use the instance role (`ci-platform:fleets[].stepsUseInstanceRole`): when false,
     * bootstrap.sh rejects container traffic to the instance metadata service. @default false
     */
    readonly stepsUseInstanceRole?: boolean;
}

/** Disk thresholds the pre-command and pre-exit hooks enforce. */
export interface BootstrapDisk {
    /** pre-command fails the job when the build volume has less free space than this. @default 10 */
    readonly minFreeGb?: number;
    /** pre-exit prunes docker images when the build volume is at least this full. @default 80 */
    readonly pruneAbovePercent?: number;
}

/** Inputs of {@link renderBootstrapScript}. No secret may be passed: the script is logged on the instance. */
export interface BootstrapScriptArgs {
    /** The sources from {@link readHookSources}: `bootstrap.sh` and the `lib/*.bash` it uses. */
    readonly hookFiles: readonly HookSourceFile[];
    /** The region's secrets bucket holding the bundle. */
    readonly bucket: string;
    /** The bucket's region. */
    readonly region: string;
    /** {@link HooksBundle.hash} of the bundle to install. */
    readonly bundleHash: string;
    /**
     * The key prefix the uploader used, when the caller has one (the agents module's `BootstrapRequest.bundlePrefix`):
     * it must equal {@link bundleKeyPrefix}(bundleHash), or rendering fails. The script always gets the computed one.
     */
    readonly bundlePrefix?: string;
    /** The fleet the instance belongs to. */
    readonly fleet: BootstrapFleet;
    /**
     * What the fleet's agents admit (components/hooks/allowlist.ts `fleetAllowlist`): rendered only as the agent's
     * coarse, per-owner `allowed-repositories` (coarseAllowedRepositoriesValue). The per-pipeline list is not in the
     * script: the pre-bootstrap hook reads it from {@link allowlistKey} at job time.
     */
    readonly allowlist: FleetAllowlist;
    /**
     * Key of the fleet's allow-list object in {@link bucket}; must equal {@link allowlistObjectKey}(fleet.name), which is
     * what the script gets.
     */
    readonly allowlistKey?: string;
    /** Disk thresholds; defaults apply to absent fields. */
    readonly disk?: BootstrapDisk;
}

/** The rendered bootstrap script and where to upload it. */
export interface BootstrapScript {
    /** Object key, `_ci-platform/bootstrap/<fleet>-<first 16 hex of sha256(content)>.sh`. */
    readonly key: string;
    /** The script's text. */
    readonly content: string;
    /** Lowercase hex SHA-256 of the content. */
    readonly sha256: string;
}

/** Lowercase hex SHA-256 of a string's UTF-8 bytes. */
export function sha256Hex(text: string): string {
    return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The `s3://` URL of a bootstrap script, for the stack's `BootstrapScriptUrl` parameter. */
export function bootstrapScriptUrl(bucket: string, key: string): string {
    return `s3://${bucket}/${key}`;
}

/**
 * Reads every file under `dir` (the repository's `hooks/`), sorted by path.
 * This is the module's only file-system access.
 */
export function readHookSources(dir: string): HookSourceFile[] {
    const files: HookSourceFile[] = [];
    const walk = (relative: string): void => {
        for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
            const rel = relative === "" ? entry.name : `${relative}/${entry.name}`;
            if (entry.isDirectory()) {
                walk(rel);
            } else if (entry.isFile()) {
                files.push({ path: rel, content: fs.readFileSync(path.join(dir, rel), "utf8") });
            }
        }
    };
    walk("");
    return files.sort((a, b) => compareStrings(a.path, b.path));
}

/** Mode of a bundle file; same rule as `manifest_mode` in hooks/lib/checksum.bash. */
export function bundleFileMode(filePath: string): BundleFileMode {
    return filePath.includes("/") || filePath.includes(".") ? 0o644 : 0o755;
}

/**
 * Builds the bundle: the hook sources (without bootstrap.sh) and the manifest over them. Throws one error listing
 * every problem. Nothing fleet-specific is in it (each fleet's allow-list is an object of its own), so adding a
 * pipeline changes neither the bundle nor any bootstrap script.
 *
 * Image versions are deliberately not in the bundle: a new bundle hash changes every fleet's
 * BootstrapScriptUrl and so rolls every fleet, and an image bump must change only the images and
 * the steps that name them. The environment hook derives the step's image version from the job.
 */
export function buildHooksBundle(args: HooksBundleArgs): HooksBundle {
    const problems: string[] = [];
    const sources = args.hookFiles.filter((f) => f.path !== BOOTSTRAP_SOURCE);
    for (const f of sources) {
        if (!SAFE_PATH.test(f.path) || f.path.split("/").some((s) => s === "." || s === "..")) {
            problems.push(`hook file path "${f.path}" must be relative and use only [A-Za-z0-9._-] segments`);
        }
        if (RESERVED_NAMES.includes(f.path)) {
            problems.push(`hook file "${f.path}" has a name the bundle reserves for a generated file`);
        }
    }
    if (problems.length > 0) {
        throw new Error(`cannot build the hooks bundle:\n${problems.map((p) => `- ${p}`).join("\n")}`);
    }

    const files: BundleFile[] = sources
        .map((f) => ({ path: f.path, content: f.content, mode: bundleFileMode(f.path), sha256: sha256Hex(f.content) }))
        .sort((a, b) => compareStrings(a.path, b.path));
    const manifest = linesOf(files.map((f) => `${f.sha256}  ${f.path}`));
    const hash = sha256Hex(manifest);
    const objects: BundleObject[] = [
        ...files.map((f) => ({ path: f.path, content: f.content, contentType: contentTypeOf(f.path) })),
        { path: MANIFEST_NAME, content: manifest, contentType: "text/plain" },
    ].map((o) => ({ ...o, key: bundleObjectKey(hash, o.path) }));
    return { files, manifest, hash, prefix: bundleKeyPrefix(hash), objects };
}

/**
 * What the agents module uploads (its `HooksBundleFiles`): the hash and every object by its path relative to the
 * bundle root, manifest included. The agents module turns each path into a key with {@link bundleObjectKey}.
 */
export function bundleUploadFiles(bundle: HooksBundle): {
    readonly hash: string;
    readonly files: readonly { readonly path: string; readonly content: string; readonly contentType: string }[];
} {
    return {
        hash: bundle.hash,
        files: bundle.objects.map((o) => ({ path: o.path, content: o.content, contentType: o.contentType })),
    };
}

/**
 * Renders hooks/bootstrap.sh for one fleet: its settings block becomes `readonly` assignments
 * of these values (single-quoted), and its libs block is replaced by the `lib/*.bash` files it
 * sources, so the script runs on its own when the stack pipes it to bash.
 */
export function renderBootstrapScript(args: BootstrapScriptArgs): BootstrapScript {
    const source = args.hookFiles.find((f) => f.path === BOOTSTRAP_SOURCE);
    if (source === undefined) {
        throw new Error(`renderBootstrapScript: hookFiles has no ${BOOTSTRAP_SOURCE}`);
    }
    const settings: [string, string][] = [
        ["CI_PLATFORM_BUCKET", args.bucket],
        ["CI_PLATFORM_BUCKET_REGION", args.region],
        ["CI_PLATFORM_BUNDLE_HASH", args.bundleHash],
        ["CI_PLATFORM_BUNDLE_PREFIX", bundleKeyPrefix(args.bundleHash)],
        ["CI_PLATFORM_FLEET", args.fleet.name],
        ["CI_PLATFORM_REGION", args.fleet.region],
        ["CI_PLATFORM_QUEUE", args.fleet.queue],
        ["CI_PLATFORM_ECR_REGISTRY", args.fleet.ecrRegistry],
        ["CI_PLATFORM_AGENTS_PER_INSTANCE", String(args.fleet.agentsPerInstance)],
        ["CI_PLATFORM_MIN_FREE_DISK_GB", String(args.disk?.minFreeGb ?? 10)],
        ["CI_PLATFORM_PRUNE_ABOVE_PERCENT", String(args.disk?.pruneAbovePercent ?? 80)],
        ["CI_PLATFORM_STEPS_USE_INSTANCE_ROLE", String(args.fleet.stepsUseInstanceRole ?? false)],
    ];
    const problems: string[] = allowlistProblems(args.allowlist);
    if (problems.length === 0) {
        // Written into the agent config, and into allowed-pipelines, by bootstrap.sh (not into fleet.env: the
        // environment hook exports every fleet setting into the job).
        settings.push(["CI_PLATFORM_ALLOWED_REPOSITORIES", coarseAllowedRepositoriesValue(args.allowlist)]);
    }
    if (/^[A-Za-z0-9._-]+$/.test(args.fleet.name)) {
        const allowlistKey = allowlistObjectKey(args.fleet.name);
        if (args.allowlistKey !== undefined && args.allowlistKey !== allowlistKey)
            problems.push(`allowlistKey "${args.allowlistKey}" is not the fleet's allow-list key "${allowlistKey}"`);
        settings.push(["CI_PLATFORM_ALLOWLIST_KEY", allowlistKey]);
    }
    if (!SHA256_HEX.test(args.bundleHash)) {
        problems.push(`bundleHash "${args.bundleHash}" is not a lowercase hex SHA-256`);
    }
    if (args.bundlePrefix !== undefined && args.bundlePrefix !== bundleKeyPrefix(args.bundleHash)) {
        problems.push(
            `bundlePrefix "${args.bundlePrefix}" is not where the bundle is uploaded, "${bundleKeyPrefix(args.bundleHash)}"`,
        );
    }
    if (!/^[A-Za-z0-9._-]+$/.test(args.fleet.name)) {
        problems.push(`fleet.name "${args.fleet.name}" may only use [A-Za-z0-9._-]`);
    }
    for (const [name, value] of settings) {
        if (value === "" || /[\n\r\0]/.test(value)) {
            problems.push(`${name} must be one non-empty line`);
        }
    }
    if (!Number.isInteger(args.fleet.agentsPerInstance) || args.fleet.agentsPerInstance < 1) {
        problems.push(`fleet.agentsPerInstance must be a positive integer, got ${args.fleet.agentsPerInstance}`);
    }
    for (const [field, value] of [
        ["disk.minFreeGb", args.disk?.minFreeGb ?? 10],
        ["disk.pruneAbovePercent", args.disk?.pruneAbovePercent ?? 80],
    ] as const) {
        if (!Number.isInteger(value) || value < 0) {
            problems.push(`${field} must be a non-negative integer, got ${value}`);
        }
    }
    if (!SETTINGS_BLOCK.test(source.content)) {
        problems.push(`${BOOTSTRAP_SOURCE} has no "# >>> ci-platform:settings" ... "# <<< ci-platform:settings" block`);
    }
    const libsBlock = LIBS_BLOCK.exec(source.content);
    if (libsBlock === null) {
        problems.push(`${BOOTSTRAP_SOURCE} has no "# >>> ci-platform:libs" ... "# <<< ci-platform:libs" block`);
    }
    const libs = libsBlock === null ? [] : [...libsBlock[1].matchAll(/^\. "\$_ci_lib\/([A-Za-z0-9_.-]+)"$/gm)];
    const libFiles = libs.map((m) => {
        const lib = args.hookFiles.find((f) => f.path === `lib/${m[1]}`);
        if (lib === undefined) {
            problems.push(`${BOOTSTRAP_SOURCE} sources lib/${m[1]}, which hookFiles lacks`);
        }
        return lib;
    });
    if (problems.length > 0) {
        throw new Error(`cannot render ${BOOTSTRAP_SOURCE}:\n${problems.map((p) => `- ${p}`).join("\n")}`);
    }

    const settingsBlock = [
        "# >>> ci-platform:settings (rendered by renderBootstrapScript)",
        ...settings.map(([name, value]) => `readonly ${name}=${shellQuote(value)}`),
        "# <<< ci-platform:settings",
        "",
    ].join("\n");
    const inlined = libFiles
        .filter((f): f is HookSourceFile => f !== undefined)
        .map((f) => `# --- inlined ${f.path} ---\n${f.content.replace(/^#![^\n]*\n/, "")}`)
        .join("\n");
    const libsText = `# >>> ci-platform:libs (inlined by renderBootstrapScript)\n${inlined}# <<< ci-platform:libs\n`;
    const content = source.content.replace(SETTINGS_BLOCK, () => settingsBlock).replace(LIBS_BLOCK, () => libsText);
    const sha256 = sha256Hex(content);
    return { key: fleetVersionedKey(args.fleet.name, sha256, "sh"), content, sha256 };
}

/**
 * Quotes a value so that bash evaluates it back to exactly the same string, with no expansion of any kind: the one
 * quoting of the rendered scripts (bootstrap settings) and of the secrets' env files (agents/secret-objects.ts).
 * Values without a single quote are single-quoted (bash reads them literally). Values with one are double-quoted
 * with `\`, `"`, `$` and backquote escaped, which bash also reads literally and dotenv parsers (the hooks use one to
 * find values to redact from logs) still understand.
 */
export function shellQuote(value: string): string {
    if (value.includes("\0")) throw new Error("a shell value cannot contain a NUL character");
    if (!value.includes("'")) return `'${value}'`;
    return `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

function linesOf(lines: readonly string[]): string {
    return lines.map((line) => `${line}\n`).join("");
}

/** Code-unit order, independent of locale, so the manifest's order is stable everywhere. */
function compareStrings(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

function contentTypeOf(filePath: string): string {
    if (filePath.endsWith(".json")) {
        return "application/json";
    }
    return bundleFileMode(filePath) === 0o755 || filePath.endsWith(".bash") ? "text/x-shellscript" : "text/plain";
}
