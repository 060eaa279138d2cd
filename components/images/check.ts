import type { ConfigIssue, PlatformConfig } from "../config";
import { didYouMean } from "../config/issues";
import { argDeclarations, dockerfilePath, missingFromArgs, parseDockerfile, variantBuildArgs } from "./dockerfile";
import { VERSIONS_FILE, parseVersionsText } from "./versions";

/** The files under `agent-images/` the config checks read, handed in so the checks stay pure. */
export interface ImageFiles {
    /** The text of `agent-images/versions.json`, or undefined when the file is missing. */
    readonly versionsJson: string | undefined;
    /** The text of `agent-images/<image>/Dockerfile`, or undefined when it is missing. */
    dockerfile(image: string): string | undefined;
}

/**
 * Checks the images of the config against the files under `agent-images/`, returning every problem with its
 * config path (`ci-platform:images[1].name`):
 * - `versions.json` missing, not JSON, or pinning a value that is not a calendar version;
 * - a declared image without a pinned version, or without a Dockerfile;
 * - a pin for an image that is not declared;
 * - a variant whose build arguments leave a `FROM` line's `ARG` unset (e.g. `bookworm` for a Python image).
 * (Steps naming an undeclared image or variant are reported by the config's cross-checks.)
 */
export function checkImages(
    config: Pick<PlatformConfig, "images" | "fleets" | "homeRegion">,
    files: ImageFiles,
): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const names = config.images.map((i) => i.name);
    const indexOf = (image: string) => names.indexOf(image);

    let pins: Readonly<Record<string, string>> = {};
    let pinsKnown = false;
    if (files.versionsJson === undefined) {
        if (config.images.length > 0)
            issues.push({
                path: ["images"],
                message: `${VERSIONS_FILE} is missing; every image needs a pinned version there`,
                fix: `create it with one entry per image, e.g. npm run images:bump -- ${names[0]}`,
            });
    } else {
        const parsed = parseVersionsText(files.versionsJson);
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
                        : `make ${VERSIONS_FILE} a JSON object such as {"${names[0] ?? "image"}": "2026.11.1"}`,
                });
            }
            // Keep the well-formed pins, so one run reports every other problem too.
            try {
                const raw: unknown = JSON.parse(files.versionsJson);
                if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
                    pins = raw as Record<string, string>;
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
        const instructions = parseDockerfile(text);
        if (!instructions.some((ins) => ins.keyword === "FROM")) {
            issues.push({
                path: ["images", i, "name"],
                message: `${dockerfilePath(image.name)} has no FROM instruction`,
                fix: "start the build from a base image",
            });
            return;
        }
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

    if (pinsKnown)
        for (const pinned of Object.keys(pins).sort())
            if (!names.includes(pinned))
                issues.push({
                    path: ["images"],
                    unknownName: pinned,
                    message:
                        `${VERSIONS_FILE} pins "${pinned}", which is not declared in ci-platform:images; ${didYouMean(pinned, names)}`.trimEnd(),
                    fix: `declare the image in ci-platform:images, or remove its entry from ${VERSIONS_FILE}`,
                });
    return issues;
}
