import { fleetsRunning } from "../config/access-checks";
import { shellQuote } from "../hooks/bundle";
import type { PlatformConfig, SecretSet, SecretsConfig } from "../config/schema";

/*
 * The objects of a secrets bucket, in the layout the Elastic CI Stack's secrets hooks
 * (buildkite/elastic-ci-stack-s3-secrets-hooks, run by every job's environment hook) read:
 *
 *   env                        organisation-wide environment, evaluated by bash with `set -o allexport`
 *   private_ssh_key            loaded into ssh-agent
 *   git-credentials            a git-credential-store file, used as a credential helper
 *   secret-files/NAME_TOKEN    one variable per object; the hooks list this prefix and keep names ending in
 *                              _SECRET, _SECRET_KEY, _PASSWORD, _TOKEN or _ACCESS_KEY
 *   <pipeline-slug>/...        the same four, for one pipeline's builds only
 *
 * Everything here is pure. The program's config holds the secrets' names only (config load.ts `secretsShape`): the
 * keys and metadata come from it, the bodies from the secret Output of their values (secretObjectContents).
 */

/** What an object holds, for messages and tests. */
export type SecretObjectKind = "env" | "private_ssh_key" | "git-credentials" | "secret-file";

/** One object of a secrets bucket. */
export interface SecretObject {
    /** Object key: `env` at the root, `<slug>/env` for a pipeline. */
    readonly key: string;
    /** The object's body. Secret. */
    readonly content: string;
    /** What the object holds. */
    readonly kind: SecretObjectKind;
    /** The pipeline slug, or undefined for organisation-wide objects. */
    readonly pipeline?: string;
    /**
     * The environment variable names the object exports into a job (an env file's names, a secret file's own name;
     * none for an SSH key or git-credentials). Not secret: the bucket records them in the object's metadata.
     */
    readonly variables: readonly string[];
}

/** The object metadata key (S3 `x-amz-meta-ci-platform-variables`) listing the variable names an object exports. */
export const VARIABLES_METADATA_KEY = "ci-platform-variables";

/** The object's metadata: its variable names, comma-separated, when it exports any. */
export function secretObjectMetadata(object: SecretObject): Record<string, string> | undefined {
    return object.variables.length === 0 ? undefined : { [VARIABLES_METADATA_KEY]: object.variables.join(",") };
}

/** Suffixes a `secret-files/` object name must end with for the hooks to load it. */
export const SECRET_FILE_SUFFIXES = ["_SECRET", "_SECRET_KEY", "_PASSWORD", "_TOKEN", "_ACCESS_KEY"] as const;

/** Whether the hooks load a `secret-files/` object of this name. */
export function isLoadedSecretFileName(name: string): boolean {
    return SECRET_FILE_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** The env file for one scope: a comment, then one `NAME='value'` line per variable, sorted by name. */
export function renderEnvFile(env: Readonly<Record<string, string>>): string {
    const lines = Object.keys(env)
        .sort()
        .map((name) => {
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
                throw new Error(`"${name}" is not an environment variable name`);
            return `${name}=${shellQuote(env[name])}`;
        });
    return ["# Written by ci-platform from ci-platform:secrets; changes here are overwritten.", ...lines, ""].join(
        "\n",
    );
}

/** A git-credential-store file: one credential URL per line. */
export function renderGitCredentials(lines: string | readonly string[]): string {
    const all = typeof lines === "string" ? [lines] : [...lines];
    return all.map((l) => l.trim()).join("\n") + "\n";
}

/** The SSH key as ssh-add wants it: with a final newline. */
export function renderSshKey(key: string): string {
    return key.endsWith("\n") ? key : `${key}\n`;
}

function objectsOf(set: SecretSet, pipeline: string | undefined): SecretObject[] {
    const at = (name: string) => (pipeline === undefined ? name : `${pipeline}/${name}`);
    const out: SecretObject[] = [];
    if (set.env !== undefined && Object.keys(set.env).length > 0)
        out.push({
            key: at("env"),
            content: renderEnvFile(set.env),
            kind: "env",
            pipeline,
            variables: Object.keys(set.env).sort(),
        });
    if (set.privateSshKey !== undefined)
        out.push({
            key: at("private_ssh_key"),
            content: renderSshKey(set.privateSshKey),
            kind: "private_ssh_key",
            pipeline,
            variables: [],
        });
    if (set.gitCredentials !== undefined)
        out.push({
            key: at("git-credentials"),
            content: renderGitCredentials(set.gitCredentials),
            kind: "git-credentials",
            pipeline,
            variables: [],
        });
    const files = set.files ?? {};
    for (const name of Object.keys(files).sort())
        out.push({
            key: at(`secret-files/${name}`),
            content: files[name],
            kind: "secret-file",
            pipeline,
            variables: [name],
        });
    return out;
}

/**
 * Every object the secrets config puts in each secrets bucket: organisation-wide objects at the root, then each
 * pipeline's under its slug, sorted by key. The same config gives the same list.
 */
export function secretObjects(secrets: SecretsConfig): SecretObject[] {
    const out = secrets.organization ? objectsOf(secrets.organization, undefined) : [];
    for (const slug of Object.keys(secrets.pipelines).sort()) out.push(...objectsOf(secrets.pipelines[slug], slug));
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * The body of every object of {@link secretObjects}, by object key. Called inside the `apply` of the secret Output
 * of the secrets' values (config stack-config.ts `loadStackSecrets`), so each body stays a Pulumi secret.
 */
export function secretObjectContents(secrets: SecretsConfig): Record<string, string> {
    return Object.fromEntries(secretObjects(secrets).map((o) => [o.key, o.content]));
}

/** One secrets bucket's place: a region and the Buildkite cluster whose fleets there read it. */
export interface SecretsBucketScope {
    readonly region: string;
    readonly cluster: string;
}

/**
 * Every (region, cluster) that has an AWS fleet, sorted by region then cluster: one secrets bucket each. The
 * cluster is the trust boundary: a bucket is read by the instance roles of that cluster's fleets in that region only.
 * Those roles are ours and read by prefix (iam-policy.ts), but each can list every key name of its bucket (the
 * secrets hooks' HeadBucket needs a prefix-less ListBucket), and a role the stack created itself would read every
 * object (elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml InstancePolicy: s3:Get* and s3:List* on the whole
 * bucket): two clusters never share a bucket.
 */
export function secretsBucketScopes(config: Pick<PlatformConfig, "fleets">): SecretsBucketScope[] {
    const keys = new Set(config.fleets.flatMap((f) => (f.kind === "aws" ? [`${f.region} ${f.cluster}`] : [])));
    return [...keys].sort().map((key) => {
        const [region, cluster] = key.split(" ");
        return { region, cluster };
    });
}

/**
 * The secrets that belong in the bucket of one (region, cluster):
 * - the organisation's, copied into every cluster's bucket: they are organisation-wide by definition (the HTTPS
 *   git credentials every private checkout needs); a secret only some clusters may read belongs to pipelines;
 * - each pipeline's only when the pipeline is in that cluster and an AWS fleet of that cluster in that region serves
 *   its queue. A job anywhere else never reads this bucket, so a copy here would only widen who can read the secret.
 */
export function secretsForBucket(
    config: Pick<PlatformConfig, "clusters" | "fleets" | "pipelines" | "secrets">,
    scope: SecretsBucketScope,
): SecretsConfig {
    const cluster = config.clusters.find((c) => c.name === scope.cluster);
    const runsHere = new Set(
        config.pipelines
            .filter(
                (p) =>
                    p.cluster === scope.cluster &&
                    fleetsRunning(config, p).some((f) => f.kind === "aws" && f.region === scope.region),
            )
            .map((p) => p.slug),
    );
    return {
        ...(config.secrets.organization && cluster?.organizationSecrets !== false
            ? { organization: config.secrets.organization }
            : {}),
        pipelines: Object.fromEntries(Object.entries(config.secrets.pipelines).filter(([slug]) => runsHere.has(slug))),
    };
}
