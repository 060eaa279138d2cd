import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { DeployRoles } from "./components/access";
import { declareFleets } from "./components/agents";
import {
    BuildkiteOrganization,
    BuildkitePipeline,
    PipelineTriggerRules,
    splitRepository,
} from "./components/buildkite";
import { ConfigError, loadStackSecrets } from "./components/config";
import { loadStackConfig } from "./components/platform-config";
import { adoption } from "./components/config/adopt-transform";
import { buildHooksBundle, bundleUploadFiles, readHookSources, renderBootstrapScript } from "./components/hooks";
import {
    checkImages,
    declareImages,
    imagePushesNeeded,
    parseVersionsText,
    pushesOf,
    readImageFiles,
    stepImageResolver,
} from "./components/images";
import { repositoryUrl } from "./components/buildkite/pipeline-settings";
import {
    kmsSignedStoredPipeline,
    kmsStoredStepPayloads,
    signedStoredPipeline,
    uploadQueues,
} from "./components/signing";
import { KmsStepSignature } from "./components/signing/kms-step-signature";
import { providerPlan, Providers } from "./components/providers";
import { briefSteps, generateSteps, generatedStepIssues } from "./components/steps";

const ROOT = __dirname;

// 1. Read and validate the whole config, and the files it refers to, before a single resource is registered.
const imageFiles = readImageFiles(ROOT);
const config = loadStackConfig({ extraChecks: [(c) => checkImages(c, imageFiles)] });
// The secrets' values, a Pulumi secret from the moment they are read; `config.secrets` holds their names only.
const secretValues = loadStackSecrets();
const imageVersions = parseVersionsText(imageFiles.versionsJson ?? "{}").value ?? {};
const hookFiles = readHookSources(path.join(ROOT, "hooks"));
// Existing resources the stack adopts (`ci-platform:adopt`, README "Re-adopting a retained resource"): the stack
// transformation sets `import` on each as it is declared; entries that name nothing are reported once all are.
const adopted = adoption(config.adopt);
pulumi.runtime.registerStackTransformation(adopted.transformation);

// 2. Providers, all from the one registry (components/providers.ts): one Buildkite organization, one GitHub provider
// per repository owner, one AWS provider per region, one docker provider per region that images are pushed to, each
// registry's credentials from its own region's ECR token. The stack disables default providers
// (`pulumi:disable-default-providers` in Pulumi.<stack>.yaml): every resource and invoke below names one of these.
const providers = new Providers("providers", providerPlan(config));
const buildkiteProvider = providers.buildkite;
const githubProviders = providers.github;
const awsProviders = providers.aws;
const accountId = providers.accountId;
const imageRegistries = providers.registries;

// Every pipeline's steps, from the config; images resolve to their pinned tags in the agent's own region.
const steps = generateSteps(config, stepImageResolver(config.images, imageVersions));
// Checked against Buildkite's pipeline schema and our step rules before any resource is registered (exit 2 in the plan).
const stepIssues = generatedStepIssues(config.pipelines, steps.bySlug);
if (stepIssues.length > 0) throw new ConfigError(stepIssues);

// A pipeline's stored steps, signed when its cluster signs (README, "Signed pipelines"): the private key set is read
// inside the secret Output and never leaves it; the signed YAML holds signatures only, so it is not a secret.
// Each cluster's signing, looked up once per pipeline for its stored steps and for what the pipeline records.
const signingOf = new Map(config.clusters.map((c) => [c.name, c.signing]));
const storedSteps = (pipeline: (typeof config.pipelines)[number]): pulumi.Input<string> => {
    const signing = signingOf.get(pipeline.cluster);
    const generated = steps.bySlug[pipeline.slug];
    if ((signing?.mode !== "jwks" && signing?.mode !== "kms") || generated.storedUpload === undefined)
        return generated.stored;
    // One step that uploads the whole document, which carries the pipeline's env (components/steps/stored-upload.ts).
    const doc = { steps: [generated.storedUpload] };
    const url = repositoryUrl(pipeline.repository, pipeline.checkout);
    if (signing?.mode === "kms") {
        // ECDSA is randomised: each step is signed at deploy by a resource that keeps its signature in state until
        // what it signs changes (components/signing/kms-step-signature.ts), so previews stay clean.
        const key = fleets.signingKeys[pipeline.cluster];
        const signatures = kmsStoredStepPayloads(doc, url, pipeline.slug).map((payload, i) => ({
            payload: payload.payload,
            value: new KmsStepSignature(
                `${pipeline.slug}-step-signature-${i}`,
                { keyArn: key.homeArn, payload },
                { parent: key },
            ).value,
        }));
        return pulumi
            .all(signatures.map((s) => s.value))
            .apply((values) =>
                kmsSignedStoredPipeline(doc, url, new Map(signatures.map((s, i) => [s.payload, values[i]]))),
            );
    }
    return pulumi.unsecret(
        secretValues.apply((values) =>
            signedStoredPipeline(doc, url, {
                privateJwks: values.signing?.[pipeline.cluster] ?? "",
                signingKeyId: signing.signingKeyId,
                verificationKeys: signing.verificationKeys ?? [],
                configPath: `ci-platform:secrets.signing.${pipeline.cluster}`,
                pipeline: pipeline.slug,
            }),
        ),
    );
};

// 3. Components.
const organization = new BuildkiteOrganization(
    config.organization,
    { clusters: config.clusters, teams: config.teams },
    { providers: [buildkiteProvider] },
);
// Image versions are not in the bundle: an image bump must not roll every fleet. The environment hook reads the
// step's own image reference from the job instead.
const hooksBundle = buildHooksBundle({ hookFiles });
const fleets = declareFleets({
    config,
    secretValues,
    clusterIds: organization.clusterIds,
    hooksBundle: bundleUploadFiles(hooksBundle),
    // The fleets whose queues run the stored steps that upload get the signing key (components/signing/fleets.ts).
    signingUploadQueues: uploadQueues(config, steps.bySlug),
    renderBootstrap: (request) =>
        renderBootstrapScript({
            hookFiles,
            bucket: request.bucket,
            region: request.region,
            bundleHash: request.bundleHash,
            bundlePrefix: request.bundlePrefix,
            fleet: request.fleet,
            allowlist: request.allowlist,
            allowlistKey: request.allowlistKey,
        }),
    providers: awsProviders,
    buildkiteProvider,
    // The queues are the organization's clusters' objects.
    queueParent: organization,
    accountId,
});
const images = declareImages({
    config,
    versions: imageVersions,
    registries: imageRegistries,
    // Each region's repository policy names the instance roles of that region's fleets (declared above).
    pullerRoleArns: fleets.roleArnsByRegion,
    accountId,
    rootDir: ROOT,
});

// Pipelines come after the images: each waits for the pushes its steps pull.
const pipelines = config.pipelines.map(
    (pipeline) =>
        new BuildkitePipeline(
            pipeline.slug,
            {
                pipeline,
                clusterId: organization.clusterIds[pipeline.cluster],
                defaultTeamId: organization.teamIds[pipeline.team ?? config.teams[0].name],
                teamIds: organization.teamIds,
                teamsRenamedFrom: Object.fromEntries(config.teams.map((t) => [t.name, t.renamedFrom])),
                steps: storedSteps(pipeline),
                ...(signingOf.get(pipeline.cluster)?.mode === "kms"
                    ? { stepsBeforeSigning: steps.bySlug[pipeline.slug].stored }
                    : {}),
                // The pushes of every tag its steps name, stored or uploaded, in the regions of the fleets that
                // run them: after a bump, no build pulls a tag before it is pushed.
                waitsFor: pushesOf(images, imagePushesNeeded(config, pipeline, steps.bySlug[pipeline.slug])),
            },
            { providers: [buildkiteProvider, githubProviders[splitRepository(pipeline.repository).owner]] },
        ),
);

// The roles that deploy and preview this stack, assumed per job through OIDC (README, "Deploy roles").
const deployRoles =
    config.deployRoles.length > 0
        ? new DeployRoles(
              "deploy-roles",
              {
                  roles: config.deployRoles,
                  organization: config.organization,
                  accountId,
                  pipelineIds: Object.fromEntries(pipelines.map((p, i) => [config.pipelines[i].slug, p.pipeline.uuid])),
                  tokenKeyArns: Object.values(fleets.buckets).map((b) => b.tokenKeyArn),
              },
              { providers: [awsProviders[config.homeRegion]] },
          )
        : undefined;

new PipelineTriggerRules(
    `${config.organization}-trigger-rules`,
    {
        triggers: steps.crossClusterTriggers,
        pipelineUuids: Object.fromEntries(pipelines.map((p, i) => [config.pipelines[i].slug, p.pipeline.uuid])),
        renamedFrom: Object.fromEntries(config.pipelines.map((p) => [p.slug, p.renamedFrom])),
    },
    { providers: [buildkiteProvider] },
);

// Every resource is declared: an adopt entry that named none is a config error. Under `pulumi up` the preview fails
// on it, so nothing is applied; the offline plan exits 2.
const adoptIssues = adopted.issues();
if (adoptIssues.length > 0) throw new ConfigError(adoptIssues);

// 4. Outputs.
export const pipelineSlugs = Object.fromEntries(pipelines.map((p, i) => [config.pipelines[i].slug, p.slug]));
export const pipelineSteps = Object.fromEntries(
    config.pipelines.map((p) => [p.slug, briefSteps(steps.bySlug[p.slug])]),
);
export const agentFleets = fleets.fleets;
/** By role name: the ARN of each deploy role (set `CI_PLATFORM_AWS_*_ROLE_ARN` and `AWS_PREVIEW_ROLE_ARN` to them). */
export const deployRoleArns = deployRoles?.roleArns ?? {};
export const imageRepositories = Object.fromEntries(
    Object.entries(images.images).map(([name, image]) => [name, image.repositoryUrl]),
);
/** By image: the regions each of its pinned tags is pushed to (the home region and every AWS fleet region). */
export const imagePushRegions = Object.fromEntries(
    Object.entries(images.images).map(([name, image]) => [name, image.regions]),
);
