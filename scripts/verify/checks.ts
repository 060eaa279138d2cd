import { ExpectedImage, ExpectedObject, ExpectedToken, Expectations } from "./expected";
import { StateResource } from "./state";

/*
 * The drift verifier's decisions, pure: what the program declares (expected.ts), what the state recorded
 * (state.ts) and what the clouds answer (observe.ts) in; one finding per checked resource out. Nothing here ever
 * holds a secret: a secret object is compared by digest and reported by key only.
 */

/** How a resource compares. `unverified`: the check could not run (no access, not deployed, an API error). */
export type FindingStatus = "ok" | "drift" | "unverified";

/** The result of checking one resource. */
export interface Finding {
    readonly check: "object" | "token" | "image";
    readonly urn: string;
    /** What a reader recognises: `s3://bucket/key`, `<token uuid> (cluster <uuid>)`, the image reference. */
    readonly subject: string;
    readonly status: FindingStatus;
    readonly message: string;
}

/** How objects are compared. */
export type ObjectMode = "content" | "etag";

/** What S3 answered for one object. */
export type ObjectObservation =
    | { readonly found: true; readonly etag?: string; readonly sha256?: string }
    | { readonly found: false }
    | { readonly error: string };

/** What Buildkite answered for one cluster's agent tokens. */
export type TokenListing =
    | { readonly tokens: readonly { readonly id: string; readonly expires_at?: string | null }[] }
    | { readonly error: string };

/** What ECR answered for one image tag. */
export type ImageObservation = { readonly found: boolean } | { readonly error: string };

/** Where the state says an object is. */
export function objectLocation(state: ReadonlyMap<string, StateResource>, object: ExpectedObject) {
    const deployed = state.get(object.urn);
    const bucket = deployed?.outputs.bucket;
    const key = deployed?.outputs.key ?? object.key;
    const etag = deployed?.outputs.etag;
    return typeof bucket === "string" && typeof key === "string"
        ? { bucket, key, etag: typeof etag === "string" ? stripQuotes(etag) : undefined }
        : undefined;
}

/** S3 quotes ETags; the provider stores them without (terraform-provider-aws internal/service/s3/object.go read). */
export const stripQuotes = (etag: string): string => etag.replace(/^"|"$/g, "");

/** Compares one object. `content`: the content's sha256 against the program's; `etag`: the ETag against the state's. */
export function checkObject(
    object: ExpectedObject,
    location: { bucket: string; key: string; etag?: string } | undefined,
    observed: ObjectObservation | undefined,
    mode: ObjectMode,
): Finding {
    const base = { check: "object" as const, urn: object.urn };
    if (location === undefined)
        return {
            ...base,
            subject: object.key,
            status: "unverified",
            message: "not in the stack's state (not deployed yet?)",
        };
    const subject = `s3://${location.bucket}/${location.key}`;
    const what = object.secret ? "secret object" : "object";
    if (observed === undefined || "error" in observed)
        return {
            ...base,
            subject,
            status: "unverified",
            message: `could not read the ${what}: ${observed?.error ?? "not read"}`,
        };
    if (!observed.found)
        return { ...base, subject, status: "drift", message: `the ${what} is missing from the bucket` };
    if (mode === "etag") {
        if (location.etag === undefined)
            return { ...base, subject, status: "unverified", message: "the state records no ETag for it" };
        return observed.etag !== undefined && stripQuotes(observed.etag) === location.etag
            ? { ...base, subject, status: "ok", message: "unchanged since Pulumi wrote it (ETag)" }
            : {
                  ...base,
                  subject,
                  status: "drift",
                  message: `the ${what} was rewritten outside Pulumi (its ETag differs from the state's)`,
              };
    }
    if (object.sha256 === null)
        return {
            ...base,
            subject,
            status: "unverified",
            message:
                "the stack file's secure values cannot be decrypted here: give --pulumi-config (or use --objects etag)",
        };
    if (observed.sha256 === undefined)
        return { ...base, subject, status: "unverified", message: "its content was not read" };
    if (observed.sha256 === object.sha256)
        return { ...base, subject, status: "ok", message: "content as the program writes it (sha256)" };
    // A secret object's digests are never printed: a digest of a short secret can be brute-forced.
    return {
        ...base,
        subject,
        status: "drift",
        message: object.secret
            ? "the secret object's content differs from what the program writes (digests compared; values never shown)"
            : `the content differs from what the program writes: sha256 ${observed.sha256.slice(0, 12)}…, expected ${object.sha256.slice(0, 12)}…`,
    };
}

/** Where the state says a token is: its REST id (the token's UUID) and its cluster's UUID. */
export function tokenLocation(state: ReadonlyMap<string, StateResource>, token: ExpectedToken) {
    const outputs = state.get(token.urn)?.outputs;
    const id = outputs?.uuid;
    const cluster = outputs?.clusterUuid;
    return typeof id === "string" && typeof cluster === "string" ? { id, cluster } : undefined;
}

/**
 * Checks one token against its cluster's listing (Buildkite REST `GET /v2/organizations/{org}/clusters/{cluster}/
 * tokens`, buildkite/docs pages/apis/rest_api/clusters/agent_tokens.md: `id`, `expires_at`): absent means revoked
 * out of band; an `expires_at` in the past means agents can no longer connect with it.
 */
export function checkToken(
    token: ExpectedToken,
    location: { id: string; cluster: string } | undefined,
    listing: TokenListing | undefined,
    now: Date,
): Finding {
    const base = { check: "token" as const, urn: token.urn };
    if (location === undefined)
        return {
            ...base,
            subject: token.urn.split("::").pop() ?? token.urn,
            status: "unverified",
            message: "not in the stack's state (not deployed yet?)",
        };
    const subject = `${location.id} (cluster ${location.cluster})`;
    if (listing === undefined || "error" in listing)
        return {
            ...base,
            subject,
            status: "unverified",
            message: `could not list the cluster's tokens: ${listing?.error ?? "not listed"}`,
        };
    const found = listing.tokens.find((t) => t.id === location.id);
    if (found === undefined)
        return {
            ...base,
            subject,
            status: "drift",
            message: "revoked outside Pulumi: the cluster no longer lists it (agents using it cannot connect)",
        };
    if (found.expires_at && Date.parse(found.expires_at) <= now.getTime())
        return { ...base, subject, status: "drift", message: `expired at ${found.expires_at}` };
    return { ...base, subject, status: "ok", message: "listed by its cluster" };
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>`, or undefined for another kind of reference. */
export function parseEcrImage(imageName: string) {
    const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+):([^:@/]+)$/.exec(imageName);
    return m ? { registryId: m[1], region: m[2], repository: m[3], tag: m[4] } : undefined;
}

/** Checks that a pushed tag is still in its registry (`docker.Image` has no Read: refresh never looks). */
export function checkImage(image: ExpectedImage, observed: ImageObservation | undefined): Finding {
    const base = { check: "image" as const, urn: image.urn, subject: image.imageName };
    if (observed === undefined || "error" in observed)
        return {
            ...base,
            status: "unverified",
            message: `could not look it up: ${observed?.error ?? "not an ECR image"}`,
        };
    return observed.found
        ? { ...base, status: "ok", message: "the tag is in the registry" }
        : {
              ...base,
              status: "drift",
              message:
                  "the tag is gone from the registry (deleted, or expired by a lifecycle rule); steps that name it fail to pull",
          };
}

/** Counts by status. */
export function summarize(findings: readonly Finding[]): Record<FindingStatus, number> {
    const out: Record<FindingStatus, number> = { ok: 0, drift: 0, unverified: 0 };
    for (const f of findings) out[f.status]++;
    return out;
}

/** Exit code: 0 every check passed, 1 drift found, 4 no drift but some checks could not run. */
export function exitCodeOf(findings: readonly Finding[]): number {
    const counts = summarize(findings);
    return counts.drift > 0 ? 1 : counts.unverified > 0 ? 4 : 0;
}

/** The report: drift first, then what could not be checked, then a count of what matched. */
export function renderReport(findings: readonly Finding[]): string {
    const counts = summarize(findings);
    const lines: string[] = [];
    for (const status of ["drift", "unverified"] as const)
        for (const f of findings.filter((x) => x.status === status)) {
            lines.push(`${status.toUpperCase()} ${f.check} ${f.subject}: ${f.message}`);
            // The state matches the code, so a plain `pulumi up` changes nothing: the resource must be written again.
            if (status === "drift") lines.push(`  restore: pulumi up --stack <stack> --replace '${f.urn}'`);
        }
    const byCheck = (check: Finding["check"]) => findings.filter((f) => f.check === check && f.status === "ok").length;
    lines.push(
        `${counts.drift} drifted, ${counts.unverified} not verified, ${counts.ok} as declared ` +
            `(${byCheck("object")} objects, ${byCheck("token")} tokens, ${byCheck("image")} image tags)`,
    );
    return lines.join("\n") + "\n";
}

/** Every check, in the order of the expectations. */
export function checkAll(
    expected: Expectations,
    state: ReadonlyMap<string, StateResource>,
    observed: {
        readonly objects: ReadonlyMap<string, ObjectObservation>;
        readonly tokens: ReadonlyMap<string, TokenListing>;
        readonly images: ReadonlyMap<string, ImageObservation>;
    },
    options: { readonly mode: ObjectMode; readonly now: Date },
): Finding[] {
    return [
        ...expected.objects.map((o) =>
            checkObject(o, objectLocation(state, o), observed.objects.get(o.urn), options.mode),
        ),
        ...expected.tokens.map((t) => {
            const location = tokenLocation(state, t);
            return checkToken(t, location, location && observed.tokens.get(location.cluster), options.now);
        }),
        ...expected.images.map((i) => checkImage(i, observed.images.get(i.urn))),
    ];
}
