import type { ConfigIssue, PlatformConfig } from "../config";
import { didYouMean } from "../config/issues";
import { dockerignorePath, ignoresWholeContext, parseIgnoreFile } from "./context";
import { imageRegions } from "./registry";
import {
    argDeclarations,
    dockerfilePath,
    finalUser,
    isRootUser,
    missingFromArgs,
    imageContentDigest,
    parseDockerfile,
    variantBuildArgs,
} from "./dockerfile";
import {
    CALENDAR_VERSION,
    type ImageVersionRecord,
    VERSIONS_FILE,
    parseVersionRecords,
    parseVersionRecordsText,
} from "./versions";

/** The files under `agent-images/` the config checks read, handed in so the checks stay pure. */
export interface ImageFiles {
    /** The text of `agent-images/versions.json`, or undefined when the file is missing. */
    readonly versionsJson: string | undefined;
    /** The text of `agent-images/<image>/Dockerfile`, or undefined when it is missing. */
    dockerfile(image: string): string | undefined;
    /** The text of `agent-images/<image>/.dockerignore`, or undefined when it is missing. */
    dockerignore(image: string): string | undefined;
}

/**
 * Checks the images of the config against the files under `agent-images/`, returning every problem with its
 * config path (`ci-platform:images[1].name`):
 * - `versions.json` missing, not JSON, or pinning a value that is not a calendar version;
 * - a Dockerfile whose content is not the one its pinned version was built from (the digest `images:bump` recorded),
 *   or a pin with no digest recorded: its tags exist already in IMMUTABLE repositories, so the change needs a bump;
 * - a declared image without a pinned version, or without a Dockerfile;
 * - a pin for an image that is not declared;
 * - a variant whose build arguments leave a `FROM` line's `ARG` unset (e.g. `bookworm` for a Python image);
 * - a final stage that runs as a user other than root: under the fleets' Docker user-namespace remap such a user
 *   cannot write the bind-mounted checkout (see {@link checkImages}' comment at the rule);
 * - a build context whose `.dockerignore` is missing or does not exclude everything: the docker provider's context
 *   digest then hashes file modes and stray files, and a rebuild pushes a pinned tag again (see context.ts).
 * (Steps naming an undeclared image or variant are reported by the config's cross-checks.)
 */
export function checkImages(
    config: Pick<PlatformConfig, "images" | "fleets" | "homeRegion"> & Partial<Pick<PlatformConfig, "adopt">>,
    files: ImageFiles,
): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const names = config.images.map((i) => i.name);
    const indexOf = (image: string) => names.indexOf(image);

    // An image whose entry is malformed maps to null: reported once, with its own message.
    let pins: Readonly<Record<string, ImageVersionRecord | null>> = {};
    let pinsKnown = false;
    if (files.versionsJson === undefined) {
        if (config.images.length > 0)
            issues.push({
                path: ["images"],
                message: `${VERSIONS_FILE} is missing; every image needs a pinned version there`,
                fix: `create it with one entry per image, e.g. npm run images:bump -- ${names[0]}`,
            });
    } else {
        const parsed = parseVersionRecordsText(files.versionsJson);
        if (parsed.ok) {
            pins = parsed.value;
            pinsKnown = true;
        } else {
            for (const problem of parsed.error) {
                const i = problem.image === undefined ? -1 : indexOf(problem.image);
                issues.push({
                    path: i >= 0 ? ["images", i, "name"] : ["images"],
                    message: problem.message,
                    fix: problem.image
                        ? `set it with npm run images:bump -- ${problem.image}`
                        : `make ${VERSIONS_FILE} a JSON object such as {"${names[0] ?? "image"}": {"version": "2026.11.1", "digest": "sha256:..."}} (npm run images:bump -- ${names[0] ?? "NAME"} writes it)`,
                });
            }
            // Keep the well-formed pins, so one run reports every other problem too.
            try {
                const raw: unknown = JSON.parse(files.versionsJson);
                if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
                    pins = Object.fromEntries(
                        Object.entries(raw as Record<string, unknown>).map(([k, v]) => {
                            const one = parseVersionRecords({ [k]: v });
                            return [k, one.ok ? one.value[k] : null];
                        }),
                    );
                    pinsKnown = true;
                }
            } catch {
                // already reported
            }
        }
    }

    config.images.forEach((image, i) => {
        if (pinsKnown && !(image.name in pins))
            issues.push({
                path: ["images", i, "name"],
                message: `image "${image.name}" has no pinned version in ${VERSIONS_FILE}`,
                fix: `run npm run images:bump -- ${image.name}`,
            });
        const text = files.dockerfile(image.name);
        if (text === undefined) {
            issues.push({
                path: ["images", i, "name"],
                message: `image "${image.name}" has no Dockerfile at ${dockerfilePath(image.name)}`,
                fix: `add ${dockerfilePath(image.name)}, or correct the image name`,
            });
            return;
        }
        // Immutable by construction: a pinned version's tags are pushed once, to IMMUTABLE repositories (AWS ECR User
        // Guide, "Preventing image tags from being overwritten": a push of an existing tag fails with
        // ImageTagAlreadyExistsException). Any change to the content changes the docker.Image's inputs (REVISION
        // and the provider's context digest) and `pulumi up` would push the same tag again: refuse it here instead,
        // before any resource, unless the version moved with it.
        const pin = pins[image.name];
        const digest = imageContentDigest(text);
        // A malformed entry is reported above, with its own message.
        if (pin !== null && typeof pin === "object" && CALENDAR_VERSION.test(String(pin.version))) {
            const history = pin.history;
            const entry = history.find((e) => e.version === pin.version);
            const recorded = entry?.digest ?? pin.digest;
            const newest = history.length > 0 ? history[history.length - 1] : undefined;
            const bump = `npm run images:bump -- ${image.name}`;
            if (recorded === undefined && history.length === 0)
                issues.push({
                    path: ["images", i, "name"],
                    message: `${VERSIONS_FILE} pins "${image.name}" to ${pin.version} without the content digest of its Dockerfile, so nothing stops an edit from pushing its tags again (which the immutable repositories refuse)`,
                    fix: `run ${bump} (it records the version and the digest together)`,
                });
            else if (recorded !== undefined && recorded !== digest)
                issues.push({
                    path: ["images", i, "name"],
                    message: `${dockerfilePath(image.name)} changed since version ${pin.version} was pinned (recorded ${recorded.slice(0, 19)}…, now ${digest.slice(0, 19)}…): its tags (<variant>-${pin.version}) are already pushed to immutable repositories, and pushing them again fails at \`pulumi up\``,
                    fix: `run ${bump} to release the change as a new version (or undo the edit)`,
                });
            // pulumi/pulumi-docker v5.1.0 provider/provider.go: an Image's Diff never asks for a replacement (every
            // input change is an in-place update, which builds and pushes again) and its Delete does nothing, so a
            // tag once pushed stays in the repository whatever the program later declares. Every tag a change would
            // push must therefore be new: these three refusals cover the ways an old version's tag comes back.
            if (recorded === undefined && history.length === 0) {
                // reported above: a bump records the digest and the history together
            } else if (history.length === 0)
                issues.push({
                    path: ["images", i, "name"],
                    message: `${VERSIONS_FILE} keeps no history for "${image.name}" (the versions ever pinned, with their digest, variants and source URL), so a revert to a pushed version or a variant added back under it cannot be refused before \`pulumi up\` pushes an existing tag`,
                    fix: `run ${bump} (it records the new version in the history)`,
                });
            else if (newest !== undefined && newest.version !== pin.version)
                issues.push({
                    path: ["images", i, "name"],
                    message: `${VERSIONS_FILE} pins "${image.name}" to ${pin.version}, but its history's newest version is ${newest.version}: ${entry ? `${pin.version} was pushed before ${newest.version}, and pinning it again (a revert)` : `${pin.version} is not in the history, and pinning it`} would push tags the immutable repositories may already hold`,
                    fix: `pin ${newest.version} again, or run ${bump} to release the wanted content as a new version (a revert is a new version too)`,
                });
            else if (entry !== undefined) {
                const added = image.variants.filter((v) => !entry.variants.includes(v));
                const removed = entry.variants.filter((v) => !image.variants.includes(v));
                if (added.length > 0 || removed.length > 0)
                    issues.push({
                        path: ["images", i, "variants"],
                        message: `image "${image.name}" declares the variants ${image.variants.join(", ")}, but version ${pin.version} was released with ${entry.variants.join(", ")}${added.length > 0 ? `: ${added.map((v) => `${v}-${pin.version}`).join(", ")} would be pushed under a version that exists (a variant removed and added back finds its tag still in the immutable repository)` : `: removing ${removed.join(", ")} without a new version would let it come back later under ${pin.version}, whose tag the repository still holds`}`,
                        fix: `run ${bump} after changing the variants, so the change is released as a new version`,
                    });
            }
        }
        const ignore = files.dockerignore(image.name);
        if (ignore === undefined || !ignoresWholeContext(parseIgnoreFile(ignore)))
            issues.push({
                path: ["images", i, "name"],
                message: `${dockerignorePath(image.name)} ${ignore === undefined ? "is missing" : "does not exclude the whole build context"}, so the docker provider's context digest covers file modes and any stray file there: a chmod or a new file rebuilds and pushes the pinned tag again, which the immutable repository refuses`,
                fix: `make ${dockerignorePath(image.name)} a single line "*" (the provider always hashes the Dockerfile's content; Dockerfiles here COPY nothing)`,
            });
        const instructions = parseDockerfile(text);
        if (!instructions.some((ins) => ins.keyword === "FROM")) {
            issues.push({
                path: ["images", i, "name"],
                message: `${dockerfilePath(image.name)} has no FROM instruction`,
                fix: "start the build from a base image",
            });
            return;
        }
        // Our fleets keep the Elastic CI Stack's Docker user-namespace remap on: EnableDockerUserNamespaceRemap
        // defaults to "true" (buildkite/elastic-ci-stack-for-aws v6.71.1 templates/aws-stack.yml, the parameter)
        // and toStackParameters never sets it. With it, container root is the host's buildkite-agent and container
        // uid N > 0 is host uid 99999+N (v6.71.1 packer/linux/stack/conf/bin/bk-configure-docker.sh,
        // write_userns_mapping_file: "buildkite-agent:<uid>:1" then "buildkite-agent:100000:65536"). The checkout
        // the docker plugin bind-mounts belongs to buildkite-agent, and the plugin passes `-u` only when a step sets
        // `user` or `propagate-uid-gid` (buildkite-plugins/docker-buildkite-plugin v5.13.0 commands/run.sh), so an
        // image whose final USER is not root cannot write its checkout. Container root is already unprivileged on
        // the host.
        const user = finalUser(instructions);
        if (!isRootUser(user.user))
            issues.push({
                path: ["images", i, "name"],
                message: `${dockerfilePath(image.name)} line ${user.line ?? "?"} makes steps run as USER ${user.user}; the fleets keep Docker's user-namespace remap on (Elastic CI Stack EnableDockerUserNamespaceRemap defaults to "true"), which maps a non-root container user to a host uid that cannot write the bind-mounted checkout`,
                fix: "drop the USER line (or end with USER root): under the remap, container root is the host's unprivileged buildkite-agent user",
            });
        image.variants.forEach((variant, j) => {
            const missing = missingFromArgs(instructions, variantBuildArgs(variant));
            if (missing.length > 0) {
                const given = Object.keys(variantBuildArgs(variant)).join(", ");
                const wanted = argDeclarations(instructions)
                    .filter((a) => a.global)
                    .map((a) => a.name)
                    .join(", ");
                issues.push({
                    path: ["images", i, "variants", j],
                    message: `variant "${variant}" gives the build arguments ${given}, but ${dockerfilePath(image.name)} needs ${missing.join(", ")} in FROM (its ARGs before FROM: ${wanted})`,
                    fix: `name the variant so it gives ${missing.join(", ")} (Python variants are pyX.Y), or give the ARG a default`,
                });
            }
        });
    });

    // An image repository is deleted with its images (policy/invariants/ecr-repositories.ts); one found in the account
    // was left there (a region evacuated while down) and still holds tags the program would push into it after the
    // import, which its IMMUTABLE tags refuse. Refused here, before any resource.
    const repositories = new Set(
        config.images.flatMap(
            (image) => imageRegions(config).map((region) => `${image.name}-${region}-repository`), // agent-image.ts imageChildNames
        ),
    );
    (config.adopt ?? []).forEach((entry, j) => {
        const name = entry.resource.split("::").pop() ?? entry.resource;
        if (repositories.has(name) || entry.resource.startsWith("aws:ecr/repository:Repository::"))
            issues.push({
                path: ["adopt", j, "resource"],
                message: `adopts the image repository ${entry.id} (${name}): it still holds the tags \`pulumi up\` would push into it after the import, and its tags are immutable`,
                fix: `remove the entry and delete the repository with its images (aws ecr delete-repository --force --repository-name ${entry.id} --region <region>); \`pulumi up\` creates it empty and pushes every pinned tag`,
            });
    });

    // A pin the stack does not declare is a forgotten or misspelt image, unless the stack builds none at all: the pins
    // are the repository's, shared by its stacks, and a first stack (examples/) or a test stack may build no images.
    if (pinsKnown && names.length > 0)
        for (const pinned of Object.keys(pins).sort())
            if (!names.includes(pinned)) {
                const near = didYouMean(pinned, names);
                issues.push({
                    path: ["images"],
                    unknownName: pinned,
                    message: `${VERSIONS_FILE} pins "${pinned}", which is not declared in ci-platform:images${near ? `; ${near.trimEnd()}` : ""}`,
                    fix: `declare the image in ci-platform:images, or remove its entry from ${VERSIONS_FILE}`,
                });
            }
    return issues;
}
