/*
 * What the plan deploys, as Buildkite, the agents and AWS will see it: pipelines with the jobs their steps create,
 * the fleets that serve each cluster queue and where they run, what each region's secrets bucket holds, and which
 * images each region's registry has. Read from the resources alone (the offline plan's, or CrossGuard's during a
 * real preview), so the invariants in `policy/invariants/` judge what would be deployed, not the config's intent.
 *
 * Links between resources use what is known before anything exists: parent URNs, dependencies, and plain inputs
 * (cluster names, queue keys, provider regions). Ids that the clouds assign are never needed.
 *
 * Pure module: resources in, a model out.
 */
import { yamlStream } from "../components/steps/parsed-yaml";
import { at, isOpaque, isRecord, type PlanResource, stackParameters } from "./resource";

/** Type tokens the model reads. */
export const PLATFORM_TYPES = {
    cluster: "buildkite:Cluster/cluster:Cluster",
    clusterQueue: "buildkite:Cluster/clusterQueue:ClusterQueue",
    agentToken: "buildkite:Cluster/clusterAgentToken:ClusterAgentToken",
    pipeline: "buildkite:Pipeline/pipeline:Pipeline",
    organizationRule: "buildkite:Organization/rule:Rule",
    stack: "aws:cloudformation/stack:Stack",
    bucketObject: "aws:s3/bucketObjectv2:BucketObjectv2",
    dockerImage: "docker:index/image:Image",
    fleet: "ci-platform:agents:Fleet",
    secretsBucket: "ci-platform:agents:SecretsBucket",
    bucket: "aws:s3/bucket:Bucket",
    awsProvider: "pulumi:providers:aws",
} as const;

/**
 * The env variable of a stored step that carries a document for `buildkite-agent pipeline upload`
 * (components/steps/pipeline-steps.ts `UPLOAD_ENV_VAR`; repeated here so that the pack needs no program module).
 */
export const UPLOAD_ENV_VAR = "CI_PLATFORM_PIPELINE_YAML";

/**
 * The env variable of a signing pipeline's one stored step that carries the whole generated document, base64 encoded
 * (components/steps/stored-upload.ts `STORED_UPLOAD_ENV_VAR`; repeated here for the same reason).
 */
export const STORED_UPLOAD_ENV_VAR = "CI_PLATFORM_PIPELINE";

/** A base64 text decoded, or undefined when it is not base64 (a value the model cannot read). */
function base64Text(value: string | undefined): string | undefined {
    return value !== undefined && /^[A-Za-z0-9+/]*={0,2}$/.test(value)
        ? Buffer.from(value, "base64").toString("utf8")
        : undefined;
}

/** The documents a signing pipeline's one stored step uploads (components/steps/stored-upload.ts), decoded. */
export function storedUploadDocuments(stepsYaml: string): string[] {
    const documents: string[] = [];
    for (const doc of yamlStream(stepsYaml)) {
        if (doc.error !== undefined) continue;
        const value = doc.value;
        const steps = isRecord(value) ? value.steps : undefined;
        for (const step of Array.isArray(steps) ? steps : []) {
            const document = base64Text(str(at(step, "env", STORED_UPLOAD_ENV_VAR)));
            if (document !== undefined) documents.push(document);
        }
    }
    return documents;
}

/** One step that becomes a job (a command step) or a build (a trigger step). */
export interface DeployedStep {
    readonly kind: "command" | "trigger";
    /** The step's key, else its label, else its position (`#3`). */
    readonly id: string;
    /**
     * The queue a command step targets (`agents: { queue }`); undefined when the step names none.
     * A step in a cluster with no queue of its own goes to the cluster's default queue, which the platform never
     * sets (Buildkite docs, "Clusters: queues": a job without a queue tag targets the cluster's default queue).
     */
    readonly queue?: string;
    /** The image of a command step's container (docker plugin `image`), as written (may hold `${VAR}`). */
    readonly image?: string;
    /** The slug a trigger step triggers. */
    readonly trigger?: string;
    /** Whether the step is in a document an agent uploads (true) or stored on the pipeline (false). */
    readonly uploaded: boolean;
}

/** A pipeline, with every step of its stored document and of the documents its stored steps upload. */
export interface DeployedPipeline {
    readonly urn: string;
    readonly slug: string;
    /** The checkout URL Buildkite gives the agent. */
    readonly repository: string;
    /** The Buildkite cluster's name, when its cluster is declared in the plan. */
    readonly cluster?: string;
    readonly steps: readonly DeployedStep[];
    /** The repository is public (the pipeline's {@link PUBLIC_REPOSITORY_TAG} tag): an HTTPS clone needs nothing. */
    readonly publicRepository: boolean;
    /** Secret variable names its jobs need besides its own secrets objects (its component's `requiresSecrets`). */
    readonly requiresSecrets: readonly string[];
}

/** An agent fleet: an Elastic CI Stack (kind `aws`) or agents run outside the stack (kind `static`). */
export interface DeployedFleet {
    /** The fleet component's URN. */
    readonly urn: string;
    readonly name: string;
    readonly kind: "aws" | "static";
    /** The cluster its agent token belongs to. */
    readonly cluster?: string;
    /** The queue its agents serve: the stack's `BuildkiteQueue`; for a static fleet, from its token's description. */
    readonly queue?: string;
    /** AWS fleets: the region of the stack's provider. */
    readonly region?: string;
    /** AWS fleets: the CloudFormation stack. */
    readonly stack?: PlanResource;
    /** AWS fleets: the stack's parameters. */
    readonly parameters: Readonly<Record<string, unknown>>;
    /** AWS fleets: the bootstrap script object, when the fleet installs our hooks. */
    readonly bootstrap?: PlanResource;
    /** Static fleets: secret variable names the machines set themselves (the component's `providesSecrets`). */
    readonly providesSecrets: readonly string[];
    /** Static fleets: `ssh` and/or `https`, the checkouts the machines authenticate themselves. */
    readonly checkoutCredentials: readonly string[];
    /**
     * AWS fleets: URNs of the secrets buckets (SecretsBucket components) whose bucket the fleet's stack or IAM policy
     * takes as an input, i.e. the buckets its instance role can read.
     */
    readonly secretsBuckets: readonly string[];
}

/** A secrets bucket and the keys of the objects it holds. */
export interface DeployedBucket {
    readonly urn: string;
    readonly region?: string;
    /** The cluster the bucket was declared for (the component's `cluster` input), when the plan says. */
    readonly cluster?: string;
    /** Object key to the object resource. */
    readonly objects: ReadonlyMap<string, PlanResource>;
}

/**
 * The pipeline tag that marks a public repository (components/buildkite/pipeline-settings.ts
 * `PUBLIC_REPOSITORY_TAG`; repeated here so that the pack needs no program module).
 */
export const PUBLIC_REPOSITORY_TAG = "public-repository";

/**
 * The metadata key of a secrets object that lists the variable names it exports (components/agents/secret-objects.ts
 * `VARIABLES_METADATA_KEY`; repeated here so that the pack needs no program module).
 */
export const VARIABLES_METADATA_KEY = "ci-platform-variables";

/**
 * The variable names a secrets object exports into a job: a secret file's name (the last part of its key, as the
 * hooks name the variable: elastic-ci-stack-s3-secrets-hooks v2.8.0 secrets.go handleSecrets), or the names its
 * metadata lists (an env file).
 */
export function objectVariables(key: string, object: PlanResource): string[] {
    const file = /(?:^|\/)secret-files\/([A-Za-z_][A-Za-z0-9_]*)$/.exec(key)?.[1];
    const listed = str(at(object.inputs, "metadata", VARIABLES_METADATA_KEY));
    return [...(file ? [file] : []), ...(listed ? listed.split(",").filter((n) => n !== "") : [])];
}

const strings = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

/** An image pushed to a registry. */
export interface DeployedImage {
    readonly urn: string;
    /** The region of the registry, from the image name's host or the docker provider's registry. */
    readonly region?: string;
    /** `ci-platform/<image>:<tag>`: the repository path and tag, without the registry host. */
    readonly reference: string;
}

/** What the plan deploys. */
export interface Platform {
    readonly pipelines: readonly DeployedPipeline[];
    readonly fleets: readonly DeployedFleet[];
    readonly buckets: readonly DeployedBucket[];
    readonly images: readonly DeployedImage[];
    /** Cluster name to the queue keys declared in it (`ClusterQueue`). */
    readonly queues: ReadonlyMap<string, ReadonlySet<string>>;
    readonly organizationRules: readonly PlanResource[];
    readonly resources: readonly PlanResource[];
}

const str = (value: unknown): string | undefined => (typeof value === "string" && !isOpaque(value) ? value : undefined);

/** `<account>.dkr.ecr.<region>.amazonaws.com/...`: the region of an ECR registry host. */
export function ecrRegion(reference: string): string | undefined {
    return /^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\/|$)/.exec(reference)?.[1];
}

/** The `ci-platform/...:tag` part of an image reference, whatever registry (or `${VAR}`) precedes it. */
export function platformImagePath(reference: string): string | undefined {
    return /(?:^|\/)(ci-platform\/[a-z0-9._/-]+:[A-Za-z0-9._-]+)$/.exec(reference)?.[1];
}

/** The queue a static fleet's token description names: `... (queue <key>...`. */
export function queueFromTokenDescription(description: string | undefined): string | undefined {
    return description === undefined ? undefined : /\(queue ([a-z0-9][a-z0-9-]*)\b/.exec(description)?.[1];
}

function stepsOf(yamlText: string, uploaded: boolean, out: DeployedStep[]): void {
    // A stored document, or one an agent uploads: several YAML documents are allowed, each with `steps`
    // (buildkite/agent v3.137.0 clicommand/pipeline_upload.go parses every document of the stream).
    for (const doc of yamlStream(yamlText)) {
        if (doc.error !== undefined) continue;
        const value = doc.value;
        const steps = isRecord(value) ? value.steps : Array.isArray(value) ? value : undefined;
        if (Array.isArray(steps)) walk(steps, uploaded, out);
    }
}

function pluginImage(step: Record<string, unknown>): string | undefined {
    const plugins = step.plugins;
    const entries = Array.isArray(plugins)
        ? plugins.flatMap((p) => (isRecord(p) ? Object.entries(p) : []))
        : isRecord(plugins)
          ? Object.entries(plugins)
          : [];
    for (const [name, settings] of entries) {
        // The docker plugin runs the command in `image` (buildkite-plugins/docker-buildkite-plugin v5.13.0 README).
        if (/(^|\/)docker(-buildkite-plugin)?#/.test(name) && isRecord(settings)) return str(settings.image);
    }
    return undefined;
}

function walk(steps: readonly unknown[], uploaded: boolean, out: DeployedStep[]): void {
    steps.forEach((raw, index) => {
        if (!isRecord(raw)) return;
        if (Array.isArray(raw.steps)) return walk(raw.steps, uploaded, out); // a group
        const id = str(raw.key) ?? str(raw.label) ?? `#${out.length + index}`;
        if (typeof raw.trigger === "string") {
            out.push({ kind: "trigger", id, trigger: raw.trigger, uploaded });
            return;
        }
        const isCommand = "command" in raw || "commands" in raw || "plugins" in raw;
        if (!isCommand) return; // wait, block, input
        const queue = str(at(raw, "agents", "queue"));
        out.push({ kind: "command", id, queue, image: pluginImage(raw), uploaded });
        const document = str(at(raw, "env", UPLOAD_ENV_VAR));
        // `$$` in an uploaded document is a literal `$` after upload (buildkite/agent interpolation); the model only
        // reads keys, queues and image paths, which `$$` does not change.
        if (document !== undefined) stepsOf(document, true, out);
        // A signing pipeline's one stored step uploads the whole generated document (stored-upload.ts).
        const whole = base64Text(str(at(raw, "env", STORED_UPLOAD_ENV_VAR)));
        if (whole !== undefined) stepsOf(whole, true, out);
    });
}

/** The steps a pipeline's jobs run, from its stored `steps` and every document they upload. */
export function pipelineSteps(stepsYaml: string): readonly DeployedStep[] {
    // Parsing YAML is most of the model's cost, and every invariant reads the model anew: the steps of one text are
    // parsed once per process (a pure function of the text, so the cache cannot go stale).
    const cached = parsedSteps.get(stepsYaml);
    if (cached !== undefined) return cached;
    const out: DeployedStep[] = [];
    stepsOf(stepsYaml, false, out);
    const steps = Object.freeze(out.map((s) => Object.freeze(s)));
    parsedSteps.set(stepsYaml, steps);
    return steps;
}
const parsedSteps = new Map<string, readonly DeployedStep[]>();

/** Reads the platform from the plan's resources. Each invariant reads it anew; parsed steps are shared. */
export function readPlatform(resources: readonly PlanResource[]): Platform {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const ofType = (type: string) => resources.filter((r) => r.type === type);
    const clusterName = (r: PlanResource): string | undefined => {
        for (const urn of r.dependsOn ?? []) {
            const dep = byUrn.get(urn);
            if (dep?.type === PLATFORM_TYPES.cluster) return str(dep.inputs.name);
        }
        return undefined;
    };
    const providerRegion = (r: PlanResource): string | undefined => {
        const ref = r.provider ?? undefined;
        if (ref === undefined) return undefined;
        const provider = byUrn.get(ref) ?? byUrn.get(ref.slice(0, ref.lastIndexOf("::")));
        return provider ? str(provider.inputs.region) : undefined;
    };
    const childrenOf = (urn: string) => resources.filter((r) => r.parent === urn);

    const pipelines = ofType(PLATFORM_TYPES.pipeline).map((r): DeployedPipeline => ({
        urn: r.urn,
        slug: str(r.inputs.slug) ?? r.name.replace(/-pipeline$/, ""),
        repository: str(r.inputs.repository) ?? "",
        cluster: clusterName(r),
        steps: typeof r.inputs.steps === "string" ? pipelineSteps(r.inputs.steps) : [],
        publicRepository: strings(r.inputs.tags).includes(PUBLIC_REPOSITORY_TAG),
        requiresSecrets: strings(byUrn.get(r.parent ?? "")?.inputs.requiresSecrets),
    }));

    const fleets = ofType(PLATFORM_TYPES.fleet).map((component): DeployedFleet => {
        const children = childrenOf(component.urn);
        const token = children.find((c) => c.type === PLATFORM_TYPES.agentToken);
        const stack = children.find((c) => c.type === PLATFORM_TYPES.stack);
        const bootstrap = children.find((c) => c.type === PLATFORM_TYPES.bucketObject);
        const parameters = stack ? stackParameters(stack) : {};
        // A bucket resource is a child of its SecretsBucket component; a fleet reads the buckets its AWS children
        // (the stack's SecretsBucket parameter, the IAM policy's resources) were built from.
        const secretsBuckets = new Set<string>();
        for (const child of children)
            if (child.type.startsWith("aws:"))
                for (const urn of child.dependsOn ?? []) {
                    const dep = byUrn.get(urn);
                    const owner = dep?.type === PLATFORM_TYPES.bucket ? byUrn.get(dep.parent ?? "") : undefined;
                    if (owner?.type === PLATFORM_TYPES.secretsBucket) secretsBuckets.add(owner.urn);
                }
        return {
            urn: component.urn,
            name: component.name,
            kind: stack ? "aws" : "static",
            cluster: token ? clusterName(token) : undefined,
            queue: stack ? str(parameters.BuildkiteQueue) : queueFromTokenDescription(str(token?.inputs.description)),
            region: stack ? providerRegion(stack) : undefined,
            stack,
            parameters,
            bootstrap,
            providesSecrets: strings(component.inputs.providesSecrets),
            checkoutCredentials: strings(component.inputs.checkoutCredentials),
            secretsBuckets: [...secretsBuckets].sort(),
        };
    });

    const buckets = ofType(PLATFORM_TYPES.secretsBucket).map((component): DeployedBucket => {
        const children = childrenOf(component.urn);
        const objects = new Map<string, PlanResource>();
        for (const child of children)
            if (child.type === PLATFORM_TYPES.bucketObject) {
                const key = str(child.inputs.key);
                if (key !== undefined) objects.set(key, child);
            }
        const region = children.map(providerRegion).find((r) => r !== undefined);
        return { urn: component.urn, region, cluster: str(component.inputs.cluster), objects };
    });

    const images = ofType(PLATFORM_TYPES.dockerImage).flatMap((r): DeployedImage[] => {
        const name = str(r.inputs.imageName);
        const reference = name && platformImagePath(name);
        if (!name || !reference) return [];
        const server = str(at(r.inputs, "registry", "server"));
        return [{ urn: r.urn, region: ecrRegion(name) ?? (server && ecrRegion(server)), reference }];
    });

    const queues = new Map<string, Set<string>>();
    for (const q of ofType(PLATFORM_TYPES.clusterQueue)) {
        const cluster = clusterName(q);
        const key = str(q.inputs.key);
        if (cluster === undefined || key === undefined) continue;
        if (!queues.has(cluster)) queues.set(cluster, new Set());
        queues.get(cluster)?.add(key);
    }

    return {
        pipelines,
        fleets,
        buckets,
        images,
        queues,
        organizationRules: ofType(PLATFORM_TYPES.organizationRule),
        resources,
    };
}

/** The fleets whose agents take jobs of `queue` in `cluster`. */
export function fleetsServing(platform: Platform, cluster: string | undefined, queue: string | undefined) {
    return platform.fleets.filter((f) => f.cluster === cluster && f.queue === queue && cluster !== undefined);
}

/** The fleets that can run some job of the pipeline (the fleets serving any queue its command steps name). */
export function fleetsOfPipeline(platform: Platform, pipeline: DeployedPipeline): DeployedFleet[] {
    const queues = new Set(pipeline.steps.flatMap((s) => (s.kind === "command" ? [s.queue] : [])));
    return platform.fleets.filter((f) => f.cluster === pipeline.cluster && queues.has(f.queue));
}

/**
 * The secrets bucket a fleet reads: the one its resources were built from; for a plan that does not link them
 * (older plans, hand-written fixtures), the only bucket of the fleet's region.
 */
export function bucketOf(
    platform: Platform,
    fleet: Pick<DeployedFleet, "region" | "secretsBuckets">,
): DeployedBucket | undefined {
    const linked = platform.buckets.find((b) => fleet.secretsBuckets.includes(b.urn));
    if (linked !== undefined) return linked;
    const inRegion = fleet.region === undefined ? [] : platform.buckets.filter((b) => b.region === fleet.region);
    return inRegion.length === 1 ? inRegion[0] : undefined;
}
