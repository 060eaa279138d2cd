import { reviewableSteps } from "../../components/steps/stored-upload";
import { PlanDocument, PlanResource } from "./model";

/*
 * What changes from one plan to another, by URN. A resource whose URN changes (a rename) is a removal plus an
 * addition, as it is for the engine, unless one of its aliases (model.ts `aliases`) is the old URN: then, as for
 * the engine (pulumi/pulumi pkg/resource/deploy/step_generator.go: the old state is looked up by URN, then by each
 * alias), it is the same resource, and its change lists `urn`.
 */

/*
 * Replace-on-change facts, per resource type the program declares (the types of a prod plan, `npm run plan -- --json`).
 * For bridged providers they are the Terraform providers' own: `ForceNew` (SDKv2) or a `RequiresReplace` plan modifier
 * (plugin framework) in the resource's schema. Versions: terraform-provider-aws v6 (the 6.4x line @pulumi/aws 7.48.0
 * bridges), terraform-provider-buildkite v1.32.0 or later (@pulumiverse/buildkite 3.4.0: its Pipeline has `archived`,
 * which v1.32.0 added; the files cited are unchanged from v1.32.0 to v1.38.0), terraform-provider-github v6
 * (@pulumi/github 6.15.0). A type with an empty list updates every input in place; a type missing from the table is
 * checked by test/plan/replace-on-change.test.ts against the prod plan.
 */

/** Input properties whose change makes the provider replace the resource rather than update it in place. */
export const REPLACE_ON_CHANGE: Readonly<Record<string, readonly string[]>> = {
    // AWS entries: hashicorp/terraform-provider-aws (the bridge under @pulumi/aws 7.48.0) read at the stored commit
    // named beside each; "not re-read" marks an entry still from memory.
    // internal/service/cloudformation/stack.go (01606926): disable_rollback, name, on_failure and timeout_in_minutes
    // ForceNew (parameters, template_url, tags, capabilities update in place).
    "aws:cloudformation/stack:Stack": ["disableRollback", "name", "onFailure", "timeoutInMinutes"],
    // internal/service/ecr/lifecycle_policy.go: repository ForceNew (not re-read).
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ["repository"],
    // internal/service/ecr/repository.go (0072eea2): name and encryption_configuration ForceNew (tag mutability,
    // scanning and tags update in place).
    "aws:ecr/repository:Repository": ["name", "encryptionConfigurations"],
    // internal/service/ecr/repository_policy.go: repository ForceNew (not re-read).
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ["repository"],
    // internal/service/iam/openid_connect_provider.go: url ForceNew, client ids and thumbprints update (not re-read).
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ["url"],
    // internal/service/iam/policy.go (01ccd9a2): description, name, name_prefix, path ForceNew (the document updates).
    "aws:iam/policy:Policy": ["description", "name", "namePrefix", "path"],
    // internal/service/iam/role.go (0040ea69): name, name_prefix, path ForceNew (description, trust policy update).
    "aws:iam/role:Role": ["name", "namePrefix", "path"],
    // internal/service/iam/role_policy.go: name, name_prefix and role ForceNew (not re-read).
    "aws:iam/rolePolicy:RolePolicy": ["name", "namePrefix", "role"],
    // internal/service/iam/role_policy_attachment.go (04c79849): role and policy_arn ForceNew (it has no Update).
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ["policyArn", "role"],
    // internal/service/kms/alias.go: name and name_prefix ForceNew, target_key_id updates (not re-read).
    "aws:kms/alias:Alias": ["name", "namePrefix"],
    // internal/service/kms/key.go (00a35305): custom_key_store_id, customer_master_key_spec, key_usage, multi_region
    // and xks_key_id ForceNew (description, policy, rotation update in place).
    "aws:kms/key:Key": ["customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"],
    // internal/service/kms/key_policy.go (076b89bb): key_id is NOT ForceNew there, but Update sends only the policy,
    // so a new key_id would never reach AWS: counted as a replacement, the conservative reading.
    "aws:kms/keyPolicy:KeyPolicy": ["keyId"],
    // internal/service/s3/bucket.go: bucket, bucket_prefix and object_lock_enabled ForceNew (not re-read).
    "aws:s3/bucket:Bucket": ["bucket", "bucketPrefix", "objectLockEnabled"],
    // internal/service/s3/bucket_lifecycle_configuration.go: bucket, expected_bucket_owner RequiresReplace (not re-read).
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ["bucket", "expectedBucketOwner"],
    // internal/service/s3/object.go (033c721b): bucket and key ForceNew (content, encryption, metadata update in place).
    "aws:s3/bucketObjectv2:BucketObjectv2": ["bucket", "key"],
    // internal/service/s3/bucket_policy.go: bucket ForceNew (not re-read).
    "aws:s3/bucketPolicy:BucketPolicy": ["bucket"],
    // internal/service/s3/bucket_public_access_block.go: bucket ForceNew (not re-read).
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ["bucket"],
    // internal/service/s3/bucket_server_side_encryption_configuration.go: bucket, expected_bucket_owner ForceNew
    // (not re-read).
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": [
        "bucket",
        "expectedBucketOwner",
    ],
    // internal/service/s3/bucket_versioning.go: bucket and expected_bucket_owner ForceNew (not re-read).
    "aws:s3/bucketVersioning:BucketVersioning": ["bucket", "expectedBucketOwner"],
    // internal/service/ssm/parameter.go (0073593e): name and data_type ForceNew (value, key_id, description update in
    // place; tier forces a new parameter only from Advanced down to Standard, which we never set).
    "aws:ssm/parameter:Parameter": ["dataType", "name"],
    // terraform-provider-buildkite buildkite/resource_cluster.go: no RequiresReplace (name, description, emoji, color).
    "buildkite:Cluster/cluster:Cluster": [],
    // buildkite/resource_cluster_agent_token.go: cluster_id RequiresReplace; description updates in place (it
    // was RequiresReplace up to v1.27.0).
    "buildkite:Cluster/clusterAgentToken:ClusterAgentToken": ["clusterId"],
    // buildkite/resource_cluster_queue.go: cluster_id and key RequiresReplace (description updates in place).
    "buildkite:Cluster/clusterQueue:ClusterQueue": ["clusterId", "key"],
    // buildkite/resource_organization_rule.go: type RequiresReplace (description and value update in place).
    "buildkite:Organization/rule:Rule": ["type"],
    // buildkite/resource_pipeline.go: no RequiresReplace; Update sets name and PATCHes a new slug over REST.
    "buildkite:Pipeline/pipeline:Pipeline": [],
    // buildkite/resource_pipeline_schedule.go: pipeline_id RequiresReplace (label, cronline, env update in place).
    "buildkite:Pipeline/schedule:Schedule": ["pipelineId"],
    // buildkite/resource_pipeline_team.go: pipeline_id and team_id RequiresReplace (access_level updates).
    "buildkite:Pipeline/team:Team": ["pipelineId", "teamId"],
    // buildkite/resource_pipeline_webhook.go: pipeline_id and repository RequiresReplace.
    "buildkite:Pipeline/webhook:Webhook": ["pipelineId", "repository"],
    // buildkite/resource_team.go: no RequiresReplace (name, description, privacy, default settings).
    "buildkite:Team/team:Team": [],
    // docker.Image is the native provider's, not a bridge: pulumi/pulumi-docker v5.1.0 provider/provider.go Diff
    // reports only ADD/DELETE/UPDATE property diffs and never asks for a replacement, so every change (name,
    // registry, build) is an in-place update that rebuilds and pushes; its Delete is a no-op.
    "docker:index/image:Image": [],
    // terraform-provider-github github/resource_github_repository_webhook.go: repository ForceNew.
    "github:index/repositoryWebhook:RepositoryWebhook": ["repository"],
};

/** One resource that exists in both plans with different settings. */
export interface ResourceChange {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** Changed input paths (`parameters.MinSize`) and changed options (`protect`, `provider`, `parent`). */
    readonly paths: readonly string[];
    /** Paths among `paths` that force a replacement. */
    readonly replaceReasons: readonly string[];
    /** The URN in the base plan, when the resource was matched to it through an alias (a rename). */
    readonly previousUrn?: string;
    /** Whether the resource (in either plan) is protected. */
    readonly protect: boolean;
    /** Before and after values of the changed inputs that are short scalars (secrets stay "[secret]"). */
    readonly values: readonly { readonly path: string; readonly before: unknown; readonly after: unknown }[];
    /**
     * For changed multi-line texts (a pipeline's steps YAML) and JSON documents held as strings (an IAM policy,
     * pretty-printed first): a line diff of the old and new text, in hunks with one line of context.
     */
    readonly lines: readonly { readonly path: string; readonly hunks: readonly Hunk[] }[];
    /**
     * Paths among `paths` whose value is secret in both plans and carries another version of a stack secret (it was
     * set again: rotated). Shown by name only. Absent when there are none.
     */
    readonly rotated?: readonly string[];
    /**
     * Per path among `rotated`, the stack-file secrets set again there, by config path
     * (`ci-platform:secrets.pipelines.app.env.TOKEN`): only where each new version replaced an old one and every new
     * version has a name (see {@link diffPlans} `secretNames`). Absent when none is named.
     */
    readonly rotatedSecrets?: Readonly<Record<string, readonly string[]>>;
}

/** One line of a line diff: kept (` `, context), removed (`-`) or added (`+`), indentation as it was. */
export interface DiffLine {
    readonly op: " " | "-" | "+";
    readonly text: string;
}

/** A run of changed lines with their context, and its unified-diff header (`@@ -3,2 +3,3 @@`). */
export interface Hunk {
    readonly header: string;
    readonly lines: readonly DiffLine[];
}

/** Everything that differs between two plans. */
export interface PlanDiff {
    readonly added: readonly PlanResource[];
    readonly removed: readonly PlanResource[];
    readonly replaced: readonly ResourceChange[];
    readonly updated: readonly ResourceChange[];
}

/**
 * A URN without its stack name, so that plans of two stack files (prod and a variant of it) compare resource by
 * resource.
 */
export function stackNeutralUrn(urn: string): string {
    return urn
        .replace(/^urn:pulumi:[^:]*::/, "urn:pulumi:*::")
        .replace(/::pulumi:pulumi:Stack::.*$/, "::pulumi:pulumi:Stack::*");
}

/**
 * Compares two plans. Pure, and the result is sorted by URN. `replaceOnChange`: the replace-on-change facts, by type
 * ({@link REPLACE_ON_CHANGE} unless a test asks what another provider version would do). `secretNames`: the head
 * stack file's secret versions by config path ({@link secretNamesOf}), to name the secrets set again.
 */
export function diffPlans(
    base: PlanDocument,
    head: PlanDocument,
    replaceOnChange: Readonly<Record<string, readonly string[]>> = REPLACE_ON_CHANGE,
    secretNames: ReadonlyMap<string, string> = new Map(),
): PlanDiff {
    const key = (r: PlanResource) => stackNeutralUrn(r.urn);
    const before = new Map(base.resources.map((r) => [key(r), r]));
    const after = new Map(head.resources.map((r) => [key(r), r]));
    // Each head resource's base resource: the one of its URN, else the first alias (in the order listed) that is in
    // the base, not kept by a head resource of that URN and not taken by an earlier head resource.
    const prevOf = new Map<PlanResource, PlanResource>();
    const taken = new Set<string>();
    for (const next of head.resources)
        if (before.has(key(next))) {
            prevOf.set(next, before.get(key(next))!);
            taken.add(key(next));
        }
    for (const next of head.resources) {
        if (prevOf.has(next)) continue;
        // Plans written before aliases were recorded have none.
        const match = (next.aliases ?? [])
            .map(stackNeutralUrn)
            .find((a) => before.has(a) && !after.has(a) && !taken.has(a));
        if (match === undefined) continue;
        prevOf.set(next, before.get(match)!);
        taken.add(match);
    }
    // Head URN to the base URN it was matched to: a renamed child's parent (or provider) counts as unchanged when the
    // new one is the old one renamed or moved.
    const baseUrnOf = new Map([...prevOf].map(([next, prev]) => [key(next), key(prev)]));
    const added = head.resources.filter((r) => !prevOf.has(r));
    const removed = base.resources.filter((r) => !taken.has(key(r)));
    const replaced: ResourceChange[] = [];
    const updated: ResourceChange[] = [];
    for (const next of head.resources) {
        const prev = prevOf.get(next);
        if (!prev) continue;
        const renamed = key(prev) !== key(next);
        const paths = changedPaths(prev.inputs, next.inputs);
        // A secret that was set again looks the same ("[secret]") in both plans: its versions tell (model.ts).
        const rotated =
            base.secretVersions === undefined || head.secretVersions === undefined
                ? []
                : changedSecrets(base.secretVersions[prev.urn] ?? {}, head.secretVersions[next.urn] ?? {}).filter(
                      (p) => !paths.includes(p),
                  );
        paths.push(...rotated);
        for (const option of ["protect", "retainOnDelete"] as const)
            if (prev[option] !== next[option]) paths.push(option);
        for (const option of ["parent", "provider"] as const) {
            const [a, b] = [prev[option], next[option]].map((u) => (u === null ? null : stackNeutralUrn(u)));
            // A parent or provider matched to the base through an alias is the same one: for a provider as for the
            // engine (pulumi/pulumi pkg/resource/deploy/step_generator.go providerChanged: a provider reference whose
            // old URN is aliased to the new one is no change, so no replacement).
            const was = b !== null ? (baseUrnOf.get(b) ?? b) : b;
            if (a !== was) paths.push(option);
        }
        if (renamed) paths.push("urn");
        if (paths.length === 0) continue;
        const replaceOn = replaceOnChange[next.type] ?? [];
        const replaceReasons = paths.filter(
            (p) =>
                p === "provider" ||
                replaceOn.some((prop) => p === prop || p.startsWith(`${prop}.`) || p.startsWith(`${prop}[`)),
        );
        const values = paths.flatMap((p) => {
            if (rotated.includes(p)) return [];
            const before = valueAt(prev.inputs, p);
            const after = valueAt(next.inputs, p);
            return isShortScalar(before) && isShortScalar(after) ? [{ path: p, before, after }] : [];
        });
        const lines = paths.flatMap((p) => {
            // A signing pipeline's steps: the document its one stored step uploads, decoded (stored-upload.ts).
            const readable = (v: unknown) => (p === "steps" && typeof v === "string" ? reviewableSteps(v) : v);
            const [before, after] = [valueAt(prev.inputs, p), valueAt(next.inputs, p)].map(readable).map(asDocument);
            if (typeof before !== "string" || typeof after !== "string") return [];
            if (!before.includes("\n") && !after.includes("\n")) return [];
            return [{ path: p, hunks: lineDiff(before, after) }];
        });
        const named = rotated.flatMap((p) => {
            const names = rotatedNames(
                base.secretVersions?.[prev.urn]?.[p],
                head.secretVersions?.[next.urn]?.[p],
                secretNames,
            );
            return names.length === 0 ? [] : [[p, names] as const];
        });
        const change = {
            lines,
            urn: next.urn,
            type: next.type,
            name: next.name,
            ...(renamed ? { previousUrn: prev.urn } : {}),
            paths,
            replaceReasons,
            protect: prev.protect || next.protect,
            values,
            ...(rotated.length > 0 ? { rotated } : {}),
            ...(named.length > 0 ? { rotatedSecrets: Object.fromEntries(named) } : {}),
        };
        (replaceReasons.length > 0 ? replaced : updated).push(change);
    }
    return { added, removed, replaced, updated };
}

/** Paths whose secret versions differ between two resources' records (a path in one only counts). Sorted. */
export function changedSecrets(
    before: Readonly<Record<string, string>>,
    after: Readonly<Record<string, string>>,
): string[] {
    return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((p) => before[p] !== after[p]).sort();
}

/** Whether the two plans declare the same thing. */
export function isEmptyDiff(diff: PlanDiff): boolean {
    return diff.added.length + diff.removed.length + diff.replaced.length + diff.updated.length === 0;
}

/** Paths at which two JSON values differ, as `a.b[2].c`; a whole array or object counts once where it appears or vanishes. */
export function changedPaths(a: unknown, b: unknown, prefix = ""): string[] {
    if (Object.is(a, b)) return [];
    const bothArrays = Array.isArray(a) && Array.isArray(b);
    const bothObjects = isObject(a) && isObject(b);
    if (bothArrays) {
        const xs = a as unknown[];
        const ys = b as unknown[];
        const field = identityField(xs, ys);
        if (field !== undefined) {
            // Keyed: `destinations[region=eu-central-1].x`, an element only in one list counts once.
            const id = (v: unknown) => String((v as Record<string, unknown>)[field]);
            const before = new Map(xs.map((x) => [id(x), x]));
            const after = new Map(ys.map((y) => [id(y), y]));
            const keys = [...new Set([...before.keys(), ...after.keys()])];
            const out = keys.flatMap((k) => {
                const p = `${prefix}[${field}=${k}]`;
                return before.has(k) && after.has(k) ? changedPaths(before.get(k), after.get(k), p) : [p];
            });
            // The same elements in another order: the list itself changed.
            return out.length === 0 && xs.some((x, i) => id(x) !== id(ys[i])) ? [prefix || "(value)"] : out;
        }
        const out: string[] = [];
        for (let i = 0; i < Math.max(xs.length, ys.length); i++) {
            const p = `${prefix}[${i}]`;
            if (i >= xs.length || i >= ys.length) out.push(p);
            else out.push(...changedPaths(xs[i], ys[i], p));
        }
        return out;
    }
    if (bothObjects) {
        const x = a as Record<string, unknown>;
        const y = b as Record<string, unknown>;
        const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
        return keys.flatMap((k) => {
            const p = prefix ? `${prefix}.${k}` : k;
            if (!(k in x) || !(k in y)) return [p];
            return changedPaths(x[k], y[k], p);
        });
    }
    return [prefix || "(value)"];
}

/** Fields that identify a list element (a region, a name, a key), in the order they are tried. */
export const IDENTITY_FIELDS = ["name", "region", "key", "slug", "id"] as const;

/**
 * The field that identifies the elements of two lists, or undefined when they diff by position: the first of
 * {@link IDENTITY_FIELDS} that every element of both has as a string or number, unique within each list.
 */
export function identityField(xs: readonly unknown[], ys: readonly unknown[]): string | undefined {
    const all = [...xs, ...ys];
    if (xs.length === 0 || ys.length === 0 || !all.every(isObject)) return undefined;
    return IDENTITY_FIELDS.find((f) =>
        [xs, ys].every((list) => {
            const values = list.map((e) => (e as Record<string, unknown>)[f]);
            return (
                values.every((v) => typeof v === "string" || typeof v === "number") &&
                new Set(values.map(String)).size === values.length
            );
        }),
    );
}

/**
 * The secrets set again at one input path, by config path: the versions new in the head (joined by "," as
 * redact.ts `secretVersionsOf` writes them), named through `secretNames`, when as many old versions left (each new
 * one replaced an old one) and every new one has a name; else none (a secret added or removed is not a rotation, and
 * a version the head stack file does not hold cannot be named). Sorted.
 */
export function rotatedNames(
    before: string | undefined,
    after: string | undefined,
    secretNames: ReadonlyMap<string, string>,
): string[] {
    if (before === undefined || after === undefined) return [];
    const [old, next] = [before, after].map((v) => new Set(v.split(",")));
    const gone = [...old].filter((v) => !next.has(v));
    const fresh = [...next].filter((v) => !old.has(v));
    const names = fresh.map((v) => secretNames.get(v));
    if (fresh.length === 0 || gone.length !== fresh.length || names.some((n) => n === undefined)) return [];
    return [...new Set(names as string[])].sort();
}

/**
 * The secret versions (stack-file.ts `securePlaceholder`) in a stack's config, each with the config path of the
 * `secure:` value it is the version of (`ci-platform:secrets.organization.gitCredentials`, list items as `[2]`).
 * Names only: a version is a digest of the public ciphertext.
 */
export function secretNamesOf(config: Readonly<Record<string, string>>): Map<string, string> {
    const out = new Map<string, string>();
    const visit = (v: unknown, at: string): void => {
        if (typeof v === "string")
            for (const m of v.matchAll(/\[secret:([0-9a-f]{16})\]/g)) if (!out.has(m[1])) out.set(m[1], at);
        if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${at}[${i}]`));
        else if (isObject(v)) for (const k of Object.keys(v)) visit(v[k], `${at}.${k}`);
    };
    for (const key of Object.keys(config).sort()) {
        const text = config[key];
        let value: unknown = text;
        if (/^\s*[[{]/.test(text))
            try {
                value = JSON.parse(text);
            } catch {
                // Not JSON: the text itself.
            }
        visit(value, key);
    }
    return out;
}

/**
 * A JSON document held as a string (an IAM policy, a key or bucket policy: one long line as the provider takes it)
 * pretty-printed, two spaces, so that a line diff shows which statement changed; any other value as it is.
 */
export function asDocument(value: unknown): unknown {
    if (typeof value !== "string" || !/^\s*[[{]/.test(value)) return value;
    try {
        const parsed: unknown = JSON.parse(value);
        return parsed !== null && typeof parsed === "object" ? JSON.stringify(parsed, null, 2) : value;
    } catch {
        return value;
    }
}

/** The lines of a text; a final newline ends the last line rather than starting an empty one. */
const linesOf = (text: string) => (text === "" ? [] : text.replace(/\n$/, "").split("\n"));

/**
 * A line diff of two texts (Myers' O(ND) shortest edit script, after the common head and tail are set aside), as
 * hunks with `context` unchanged lines around each change, indentation and order kept. Pure.
 */
export function lineDiff(before: string, after: string, context = 1): Hunk[] {
    const a = linesOf(before);
    const b = linesOf(after);
    let head = 0;
    while (head < a.length && head < b.length && a[head] === b[head]) head++;
    let tail = 0;
    while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail])
        tail++;
    const ops: DiffLine["op"][] = [
        ...Array<DiffLine["op"]>(head).fill(" "),
        ...editScript(a.slice(head, a.length - tail), b.slice(head, b.length - tail)),
        ...Array<DiffLine["op"]>(tail).fill(" "),
    ];
    // Each op with the line it shows and its line numbers (1-based) in the old and the new text.
    const rows: { op: DiffLine["op"]; text: string; x: number; y: number }[] = [];
    let x = 0;
    let y = 0;
    for (const op of ops) {
        rows.push({ op, text: op === "+" ? b[y] : a[x], x: x + 1, y: y + 1 });
        if (op !== "+") x++;
        if (op !== "-") y++;
    }
    const changed = rows.flatMap((r, i) => (r.op === " " ? [] : [i]));
    const hunks: Hunk[] = [];
    let i = 0;
    while (i < changed.length) {
        let j = i;
        while (j + 1 < changed.length && changed[j + 1] - changed[j] <= 2 * context + 1) j++;
        const from = Math.max(0, changed[i] - context);
        const to = Math.min(rows.length - 1, changed[j] + context);
        const slice = rows.slice(from, to + 1);
        const count = (op: DiffLine["op"]) => slice.filter((r) => r.op !== op).length;
        const [oldCount, newCount] = [count("+"), count("-")];
        // Unified diff: a side with no lines names the line before the hunk.
        const oldStart = oldCount === 0 ? slice[0].x - 1 : slice.find((r) => r.op !== "+")!.x;
        const newStart = newCount === 0 ? slice[0].y - 1 : slice.find((r) => r.op !== "-")!.y;
        hunks.push({
            header: `@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`,
            lines: slice.map((r) => ({ op: r.op, text: r.text })),
        });
        i = j + 1;
    }
    return hunks;
}

/** Myers' shortest edit script from `a` to `b`: one op per line, ` ` kept, `-` removed, `+` added. */
function editScript(a: readonly string[], b: readonly string[]): DiffLine["op"][] {
    const n = a.length;
    const m = b.length;
    if (n === 0 || m === 0) return [...Array<DiffLine["op"]>(n).fill("-"), ...Array<DiffLine["op"]>(m).fill("+")];
    const max = n + m;
    const offset = max + 1;
    const v = new Int32Array(2 * max + 3);
    const trace: Int32Array[] = [];
    let found = -1;
    for (let d = 0; d <= max && found < 0; d++) {
        trace.push(v.slice());
        for (let k = -d; k <= d; k += 2) {
            let x =
                k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1])
                    ? v[offset + k + 1]
                    : v[offset + k - 1] + 1;
            let y = x - k;
            while (x < n && y < m && a[x] === b[y]) {
                x++;
                y++;
            }
            v[offset + k] = x;
            if (x >= n && y >= m) {
                found = d;
                break;
            }
        }
    }
    const ops: DiffLine["op"][] = [];
    let x = n;
    let y = m;
    for (let d = found; d > 0; d--) {
        const w = trace[d];
        const k = x - y;
        const prevK = k === -d || (k !== d && w[offset + k - 1] < w[offset + k + 1]) ? k + 1 : k - 1;
        const prevX = w[offset + prevK];
        const prevY = prevX - prevK;
        while (x > prevX && y > prevY) {
            ops.push(" ");
            x--;
            y--;
        }
        ops.push(x === prevX ? "+" : "-");
        x = prevX;
        y = prevY;
    }
    while (x > 0 && y > 0) {
        ops.push(" ");
        x--;
        y--;
    }
    return ops.reverse();
}

/** The value at a path written by {@link changedPaths}, or undefined. */
export function valueAt(root: unknown, path: string): unknown {
    let current: unknown = root;
    for (const [, key, index, field, id] of path.matchAll(/([^.[\]]+)|\[(\d+)\]|\[([a-z]+)=([^\]]*)\]/g)) {
        if (current === null || typeof current !== "object") return undefined;
        if (field !== undefined) {
            if (!Array.isArray(current)) return undefined;
            current = current.find((e) => isObject(e) && String(e[field]) === id);
        } else current = (current as Record<string, unknown>)[key ?? Number(index)];
    }
    return current;
}

const isShortScalar = (v: unknown) =>
    (typeof v === "string" && v.length <= 120 && !v.includes("\n")) || typeof v === "number" || typeof v === "boolean";

function isObject(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}
