import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ImageObservation, ObjectMode, ObjectObservation, TokenListing, parseEcrImage, stripQuotes } from "./checks";
import { sha256Hex } from "./expected";

/*
 * The drift verifier's reads of the clouds: S3 and ECR through the AWS CLI (the drift job's image has it, and its
 * credentials come from the job's role), Buildkite through its REST API. One call per bucket, per repository and
 * per cluster, not per resource, so a stack of hundreds of objects is checked in seconds. Read-only calls only.
 */

/** How to reach the clouds. Endpoints are for tests (AWS CLI 2.9 ignores AWS_ENDPOINT_URL: hooks/lib/s3.bash). */
export interface Reach {
    /** The AWS CLI (v2) to run. */
    readonly awsCli: string;
    readonly s3EndpointUrl?: string;
    readonly ecrEndpointUrl?: string;
    /** Buildkite REST API base URL, e.g. https://api.buildkite.com. */
    readonly buildkiteApiUrl: string;
    /** A Buildkite API token with `read_clusters` (agent_tokens.md, "List tokens": required scope). */
    readonly buildkiteToken?: string;
    readonly env?: NodeJS.ProcessEnv;
}

/** Runs the AWS CLI; resolves with stdout, or rejects with its last stderr line (never the object's content). */
function aws(reach: Reach, args: readonly string[], endpoint: string | undefined): Promise<string> {
    const all = [...args, ...(endpoint ? ["--endpoint-url", endpoint] : []), "--no-cli-pager"];
    return new Promise((resolve, reject) =>
        execFile(
            reach.awsCli,
            all,
            { env: reach.env ?? process.env, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
            (error, stdout, stderr) => {
                if (!error) return resolve(stdout);
                const last = stderr.trim().split("\n").pop() || error.message;
                reject(new Error(last));
            },
        ),
    );
}

/** The current objects of one bucket: ETag by key (`etag`), or the sha256 of each wanted key's content (`content`). */
export async function readBucket(
    reach: Reach,
    bucket: { name: string; region: string },
    keys: readonly string[],
    mode: ObjectMode,
): Promise<Map<string, ObjectObservation>> {
    const out = new Map<string, ObjectObservation>();
    const fail = (e: unknown) => {
        for (const key of keys) out.set(key, { error: e instanceof Error ? e.message : String(e) });
        return out;
    };
    if (mode === "etag") {
        // ListObjectsV2 returns each current object's ETag; the CLI follows the pages itself.
        let listing: { Contents?: { Key: string; ETag?: string }[] };
        try {
            const text = await aws(
                reach,
                ["s3api", "list-objects-v2", "--bucket", bucket.name, "--region", bucket.region, "--output", "json"],
                reach.s3EndpointUrl,
            );
            listing = text.trim() === "" ? {} : (JSON.parse(text) as typeof listing);
        } catch (e) {
            return fail(e);
        }
        const etags = new Map((listing.Contents ?? []).map((o) => [o.Key, o.ETag]));
        for (const key of keys)
            out.set(key, etags.has(key) ? { found: true, etag: stripQuotes(etags.get(key) ?? "") } : { found: false });
        return out;
    }
    // Content: the whole bucket into a private temporary directory, hashed, then removed. Nothing is printed.
    const dir = mkdtempSync(path.join(tmpdir(), "ci-platform-verify-"));
    try {
        await aws(
            reach,
            ["s3", "cp", `s3://${bucket.name}/`, dir, "--recursive", "--only-show-errors", "--region", bucket.region],
            reach.s3EndpointUrl,
        );
        for (const key of keys) {
            let body: Buffer | undefined;
            try {
                body = readFileSync(path.join(dir, key));
            } catch {
                body = undefined;
            }
            out.set(key, body === undefined ? { found: false } : { found: true, sha256: sha256Hex(body) });
        }
        return out;
    } catch (e) {
        return fail(e);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** Every agent token of a cluster, following the `Link: <…>; rel="next"` pages (buildkite/docs rest_api.md). */
export async function listClusterTokens(reach: Reach, organization: string, cluster: string): Promise<TokenListing> {
    if (!reach.buildkiteToken) return { error: "no Buildkite API token (set BUILDKITE_API_TOKEN)" };
    const base = reach.buildkiteApiUrl.replace(/\/$/, "");
    let url: string | undefined =
        `${base}/v2/organizations/${encodeURIComponent(organization)}/clusters/${encodeURIComponent(cluster)}/tokens?per_page=100`;
    const tokens: { id: string; expires_at?: string | null }[] = [];
    try {
        for (let page = 0; url !== undefined && page < 100; page++) {
            const response: Response = await fetch(url, {
                headers: { Authorization: `Bearer ${reach.buildkiteToken}`, Accept: "application/json" },
                signal: AbortSignal.timeout(30_000),
            });
            if (!response.ok) return { error: `GET ${new URL(url).pathname}: HTTP ${response.status}` };
            tokens.push(...((await response.json()) as { id: string; expires_at?: string | null }[]));
            url = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("link") ?? "")?.[1];
        }
    } catch (e) {
        return { error: e instanceof Error ? e.message : String(e) };
    }
    return { tokens };
}

/** The tags of one ECR repository (ListImages, tagged only), or the error. */
export async function listImageTags(
    reach: Reach,
    repo: { registryId: string; region: string; repository: string },
): Promise<Set<string> | { error: string }> {
    try {
        const text = await aws(
            reach,
            [
                "ecr",
                "list-images",
                "--registry-id",
                repo.registryId,
                "--repository-name",
                repo.repository,
                "--filter",
                "tagStatus=TAGGED",
                "--region",
                repo.region,
                "--output",
                "json",
            ],
            reach.ecrEndpointUrl,
        );
        const listing = JSON.parse(text) as { imageIds?: { imageTag?: string }[] };
        return new Set((listing.imageIds ?? []).flatMap((i) => (i.imageTag ? [i.imageTag] : [])));
    } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        // A deleted repository has no tags at all: that is drift, not a failure to check.
        return /RepositoryNotFoundException/.test(message) ? new Set() : { error: message };
    }
}

/** Looks every image reference up, one ListImages per repository. */
export async function observeImages(
    reach: Reach,
    images: readonly { urn: string; imageName: string }[],
): Promise<Map<string, ImageObservation>> {
    const out = new Map<string, ImageObservation>();
    const byRepo = new Map<string, { repo: NonNullable<ReturnType<typeof parseEcrImage>>; urns: [string, string][] }>();
    for (const image of images) {
        const parsed = parseEcrImage(image.imageName);
        if (parsed === undefined) continue; // not an ECR reference: checkImage reports it unverified
        const id = `${parsed.registryId}/${parsed.region}/${parsed.repository}`;
        const entry = byRepo.get(id) ?? { repo: parsed, urns: [] };
        entry.urns.push([image.urn, parsed.tag]);
        byRepo.set(id, entry);
    }
    await Promise.all(
        [...byRepo.values()].map(async ({ repo, urns }) => {
            const tags = await listImageTags(reach, repo);
            for (const [urn, tag] of urns) out.set(urn, tags instanceof Set ? { found: tags.has(tag) } : tags);
        }),
    );
    return out;
}
