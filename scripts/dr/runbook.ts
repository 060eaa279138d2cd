/*
 * The runbooks of `npm run dr` once its command line is parsed (scripts/dr.ts `main`): reads the stack file, plans it
 * and prints the recovery or the evacuation. Kept out of scripts/dr.ts, which requires this module only once the
 * command line asks for a runbook, so that --help and bad usage are answered without loading the program, the policy
 * pack and the provider SDKs (about 2.5 CPU s).
 */
import * as path from "node:path";
import { evacuatedFleetName, Evacuation, evacuation, evacuationFilterCommand } from "./evacuation";
import { fleetScope, RecoveryAction, RecoveryScope, regionScope, ScopedResource, targetPatterns } from "./scope";
import { shellQuote as shellArg } from "../../components/hooks/bundle";
import { didYouMean, fleetRegions, issueFormatter, type PlatformConfig } from "../../components/config";
import { parsePlatformConfig } from "../../components/platform-config";
import { imageChildNames, parseVersionsText, readImageFiles } from "../../components/images";
import { imageTag, repositoryName } from "../../components/images/image-ref";
import { CliIo } from "../cli";
import { configFileOf } from "../plan";
import { buildPlan, rawPlatformConfig } from "../plan/run";
import { readStackFileOrIssues } from "../plan/stack-file";
import type { DrOptions } from "../dr";

const ROOT = path.resolve(__dirname, "..", "..");

/** An image push (pulumi/pulumi-docker docker.Image). */
const DOCKER_IMAGE = "docker:index/image:Image";

/** Where a push lands: what `aws ecr describe-images` needs to find it. */
export interface PushTarget {
    readonly region: string;
    /** `ci-platform/<image>`. */
    readonly repository: string;
    /** `<variant>-<version>`. */
    readonly tag: string;
}

/** The pushes of the config's images into `regions`, by docker.Image resource name. Pure. */
export function pushTargets(
    images: PlatformConfig["images"],
    versions: Readonly<Record<string, string>>,
    regions: readonly string[],
): Record<string, PushTarget> {
    const out: Record<string, PushTarget> = {};
    for (const image of images)
        for (const region of regions)
            for (const [variant, name] of Object.entries(imageChildNames(image.name, region, image.variants).pushes))
                out[name] = {
                    region,
                    repository: repositoryName(image.name),
                    tag: imageTag(variant, versions[image.name] ?? "<version>"),
                };
    return out;
}

/** A resource the lost region leaves in its account, to delete before the region is re-added: its name and id. */
export interface Readoption {
    readonly resource: string;
    readonly id: string;
}

/** The last part of a type token: `aws:s3/bucket:Bucket` to `Bucket`. */
const shortType = (type: string): string => type.split(":").pop() ?? type;

/** `names` joined until about `width` characters, then how many more. */
function someNames(names: readonly string[], width = 96): string {
    const shown: string[] = [];
    let length = 0;
    for (const n of names) {
        if (shown.length > 0 && length + n.length > width) break;
        shown.push(n);
        length += n.length + 2;
    }
    const more = names.length - shown.length;
    return shown.join(", ") + (more > 0 ? `, and ${more} more` : "");
}

/**
 * A section of resources: its title with their count, then per type the count and short names; every URN with
 * `verbose`. Nothing at all when there is none.
 */
function section(lines: string[], title: string, resources: readonly ScopedResource[], verbose: boolean): void {
    if (resources.length === 0) return;
    lines.push(`${title} (${resources.length}):`);
    if (verbose) for (const r of resources) lines.push(`  ${r.urn}`);
    else {
        const byType = new Map<string, string[]>();
        for (const r of resources) byType.set(shortType(r.type), [...(byType.get(shortType(r.type)) ?? []), r.name]);
        for (const [type, names] of [...byType].sort(([a], [b]) => (a < b ? -1 : 1)))
            lines.push(`  ${type} (${names.length}): ${someNames(names.sort())}`);
    }
    lines.push("");
}

/** `--target` (or another flag) once per pattern, quoted. */
const flags = (flag: string, patterns: readonly string[]) => patterns.map((p) => ` ${flag} ${shellArg(p)}`).join("");

/** The runbook text for a recovery scope (the region or fleet still works). Pure. */
export function renderRecovery(
    scope: RecoveryScope,
    universe: readonly string[],
    stack: string,
    options: {
        readonly pushes?: Readonly<Record<string, PushTarget>>;
        /** Every URN of each section rather than short names per type. */
        readonly verbose?: boolean;
    } = {},
): string {
    const verbose = options.verbose ?? false;
    const pushes = options.pushes ?? {};
    const lines: string[] = [];
    const stackArg = `--stack ${shellArg(stack)}`;
    const isRegion = scope.kind === "region";
    const label = isRegion ? scope.region : scope.fleets[0];
    const hints = [...scope.fleets, scope.region].filter((h) => h !== "");
    const all = scope.resources.map((r) => r.urn);
    const of = (action: RecoveryAction) => scope.resources.filter((r) => r.action === action);
    const pushResources = scope.resources.filter((r) => r.type === DOCKER_IMAGE);
    const targets = targetPatterns(all, universe, hints);
    const replaces = targetPatterns(
        of("replace").map((r) => r.urn),
        universe,
        hints,
    );
    lines.push(`Recovery of ${isRegion ? "region" : "fleet"} ${label} in stack ${stack}`);
    lines.push(
        `Fleets: ${scope.fleets.join(", ")}${scope.region ? `; region: ${scope.region}` : ""}; ${all.length} resources${verbose ? "" : " (every URN: --verbose)"}`,
        "",
    );
    section(lines, "Retained: protected, never replaced; recreated (empty) only if gone", of("retain"), verbose);
    section(lines, "Recreated from config (replaced)", of("replace"), verbose);
    section(
        lines,
        "Restored from config if missing or drifted",
        of("restore").filter((r) => r.type !== DOCKER_IMAGE),
        verbose,
    );
    if (pushResources.length > 0) {
        // pulumi/pulumi-docker v5.1.0 provider/provider.go: Read returns the stored properties unchanged and Delete
        // does nothing, so neither refresh nor up notices that a pushed tag is gone from the registry.
        lines.push(
            `Image pushes (${pushResources.length}): NOT restored if missing: a push whose repository was recreated`,
        );
        lines.push(
            "(empty) shows no diff. Check each tag; push again only a missing one (the repository is immutable):",
        );
        for (const r of pushResources) {
            const t = pushes[r.name];
            const [pattern] = targetPatterns([r.urn], universe);
            lines.push(`  ${verbose ? r.urn : r.name}`);
            if (t)
                lines.push(
                    `    check: aws ecr describe-images --region ${t.region} --repository-name ${t.repository} --image-ids imageTag=${shellArg(t.tag)}`,
                );
            // --target-replace X is --target X --replace X (pulumi/pulumi v3.259.0 pkg/cmd/pulumi/operations/up.go).
            lines.push(`    push:  pulumi up ${stackArg} --target-replace ${shellArg(pattern)}`);
        }
        lines.push("");
    }
    lines.push(
        isRegion
            ? "Rebuild in place (the region still works; what runs there is broken):"
            : scope.region
              ? "Rebuild in place (its region still works):"
              : "Rebuild in place:",
    );
    lines.push(`  1. pulumi refresh ${stackArg}${flags("--target", targets)}`);
    lines.push(`  2. pulumi up ${stackArg}${flags("--target", targets)}${flags("--replace", replaces)}`);
    // pulumi/pulumi v3.259.0 pkg/resource/deploy/deployment.go NewUrnTargets: `**` any characters, `*` any but `:`
    // (wildcards since v3.24.0, pulumi/pulumi#8883); scripts/dr/urn-glob.ts, test/plan/dr-patterns.test.ts.
    lines.push(
        `  --target selects exactly the ${all.length} resources above${replaces.length > 0 ? `, --replace the ${of("replace").length} recreated` : ""} (patterns: Pulumi CLI >= 3.24;`,
    );
    lines.push("  `**` matches anything, `*` anything but `:`). Keep the single quotes.");
    lines.push("");
    const unprotect = of("retain").map((r) => r.urn);
    if (isRegion) {
        lines.push(`Remove the region for good (it still works): delete its fleets from Pulumi.${stack}.yaml and run`);
        lines.push("`pulumi up`. Its secrets buckets go whole: emptied, deleted, their keys scheduled for deletion.");
        if (unprotect.length > 0) {
            lines.push(
                `\`pulumi up\` stops at a protected resource it would delete until \`pulumi state unprotect\`; first:`,
            );
            // pulumi/pulumi v3.259.0 pkg/cmd/pulumi/state/state_unprotect.go: several literal URNs (since v3.170.0),
            // no patterns; `--all` would unprotect the whole stack.
            lines.push(`  pulumi state unprotect ${stackArg} --yes${unprotect.map((u) => ` ${shellArg(u)}`).join("")}`);
            // The image repositories are deleted with their images (policy/invariants/ecr-repositories.ts), so a
            // re-added region gets empty ones: adopting them would push tags they still hold.
            lines.push("The image repositories go with their images (forceDelete): re-adding the region creates empty");
            lines.push("ones and pushes every pinned tag; do not adopt them.");
        }
        lines.push("");
        lines.push(`If the region is lost (its API is down), use none of the commands above: run`);
        lines.push(`  npm run dr -- --region ${scope.region} --lost --to <healthy region>`);
    }
    return lines.join("\n").trimEnd();
}

/** What the evacuation of a lost region prints. Pure. */
export function renderEvacuation(
    plan: Evacuation,
    stack: string,
    options: {
        readonly to?: string;
        readonly readoptions?: readonly Readoption[];
        /** `ci-platform:homeRegion`: losing it needs more than moving fleets. */
        readonly homeRegion?: string;
    } = {},
): string {
    const lines: string[] = [];
    const stackArg = `--stack ${shellArg(stack)}`;
    let step = 0;
    const numbered = (c: string) => lines.push(`  ${++step}. ${c}`);
    lines.push(
        `Evacuation of region ${plan.region} in stack ${stack}: the region is lost, no step below calls its API.`,
    );
    lines.push(`Fleets lost: ${plan.fleets.join(", ")}`, "");
    // A refresh reads every resource through its provider, so a provider whose region is down fails it (the region's
    // AWS and docker providers, scripts/dr/scope.ts regionProviders).
    lines.push(
        `Cannot be refreshed or targeted: the ${plan.lost.length + plan.providers.length} resources of its providers (${plan.providers.map((p) => p.split("::").pop()).join(", ")}).`,
    );
    lines.push(
        "Run no `pulumi refresh`, and no `pulumi up` until `pulumi stack import` below has dropped them: both call it.",
        "",
    );
    if (options.homeRegion === plan.region) {
        lines.push(
            `WARNING: ${plan.region} is ci-platform:homeRegion: set it to a healthy region in the same edit. The`,
        );
        lines.push(
            "home region holds the images' source registry and the resources shared by every region (the deploy",
        );
        lines.push(
            "roles: IAM, global, named in config, so they still exist: adopt them with ci-platform:adopt rather",
        );
        lines.push('than create them again; README, "Re-adopting a retained resource").', "");
    }
    lines.push("Moving a fleet under the same name would keep its URNs and change their provider: a replacement that");
    lines.push(
        "starts with a delete in the lost region, and fails. So declare NEW fleets in a healthy region, and drop",
    );
    lines.push("the lost region's resources from the state first (they stay in its account):");
    numbered(`npm run plan -- --json base.json   (the plan before the edit, to check the diff against)`);
    const renames = options.to
        ? plan.fleets.map((f) => `${f} -> ${evacuatedFleetName(f, plan.region, options.to ?? "")}`).join(", ")
        : "";
    numbered(
        `in Pulumi.${stack}.yaml, replace fleets ${plan.fleets.join(", ")} with fleets of new names (same cluster, queue and sizes)${options.to ? ` in ${options.to}: ${renames}` : " in a healthy region"}`,
    );
    lines.push(
        "     New names: the old fleets' agent tokens are deleted (their instances cannot take jobs if the region",
    );
    lines.push(
        "     comes back), and nothing new shares a name with what they left, IAM roles included (IAM is global).",
    );
    if (plan.unprotect.length > 0) {
        lines.push(
            "  As `pulumi up` stops at a protected resource it would delete, the filter below refuses one until",
        );
        lines.push("  `pulumi state unprotect` (state only; literal URNs: the command takes no patterns):");
        // pulumi/pulumi v3.259.0 pkg/cmd/pulumi/state/state_unprotect.go: several URNs in one command since v3.170.0.
        numbered(`pulumi state unprotect ${stackArg} --yes${plan.unprotect.map((u) => ` ${shellArg(u)}`).join("")}`);
    }
    lines.push(
        "  Drop the lost region's resources, and only them, from the state (state only). Healthy resources that",
    );
    lines.push("  depend on them stay (Buildkite pipelines, other regions, components); only those references go.");
    lines.push("  Not `pulumi state delete`: it refuses a resource others depend on, and with --target-dependents");
    lines.push(
        "  drops those healthy dependents too (a protected pipeline, which the next `pulumi up` would duplicate):",
    );
    numbered(
        `pulumi stack export ${stackArg} --file before.json   (keep it: \`pulumi stack import ${stackArg} --file before.json\` undoes the next steps)`,
    );
    numbered(evacuationFilterCommand(plan.providers, "before.json", "after.json"));
    numbered(`pulumi stack import ${stackArg} --file after.json`);
    lines.push(
        `     It removes ${plan.lost.length + plan.providers.length} resources; these healthy ones stay, without their references to them:`,
    );
    for (const u of plan.referrers)
        lines.push(`       ${shortType(u.split("::").at(-2) ?? "")} ${u.split("::").pop()}`);
    lines.push("     jq stops with an error (after.json is left empty: import refuses it) at a lost resource still");
    lines.push("     protected, a healthy resource parented to a lost one, or a pending operation on a healthy one;");
    lines.push("     `pulumi stack import` refuses a state with a dangling reference. Nobody else runs pulumi on the");
    lines.push("     stack between export and import (import replaces the whole state).");
    numbered(
        "npm run plan -- --diff base.json: the new fleets, and their region's bucket, keys, objects and image pushes if new, are created; the lost region's resources show as deleted (they left the state: nothing calls its API)",
    );
    numbered(`pulumi up ${stackArg}   (creates the new fleets; deletes the old fleets' tokens in Buildkite)`);
    lines.push("");
    const types = new Map<string, number>();
    // Image pushes are tags in the retained repositories, not resources of their own.
    for (const u of plan.lost.filter((l) => !l.includes("$docker:"))) {
        const type = u.split("::")[2].split("$").pop() ?? "";
        types.set(type, (types.get(type) ?? 0) + 1);
    }
    lines.push("Left in the lost region's account, to delete by hand once it is back (IAM ones are global and");
    lines.push("can go sooner): " + [...types].map(([t, n]) => `${n} ${t.split(":").pop()}`).join(", ") + ".");
    if ((options.readoptions ?? []).length > 0) {
        // Adopting them would push tags they still hold into IMMUTABLE repositories (policy/invariants/ecr-repositories.ts).
        lines.push("Before re-adding the region, delete its image repositories with their images (do not adopt them:");
        lines.push("the re-add pushes every pinned tag, which they still hold):");
        for (const r of options.readoptions ?? [])
            lines.push(
                `    aws ecr delete-repository --force --region ${plan.region} --repository-name ${shellArg(r.id)}`,
            );
    }
    return lines.join("\n");
}

/**
 * The runbook of `npm run dr` (scripts/dr.ts `main`, which has parsed and checked the command line): writes to `io`
 * and returns the exit code.
 */
export async function drCommand(
    values: DrOptions,
    io: CliIo & { readonly buildPlan?: typeof buildPlan },
): Promise<number> {
    const file = configFileOf(values);
    const read = readStackFileOrIssues(file);
    const parsed =
        "issues" in read
            ? { ok: false as const, error: read.issues }
            : parsePlatformConfig(rawPlatformConfig(read.stack));
    if (!parsed.ok) {
        io.stderr(parsed.error.map(issueFormatter(read.context)).join("\n") + "\n");
        return 2;
    }
    const config = parsed.value;
    // Check the scope before the (slower) plan, so a typo is answered at once.
    if (values.fleet && !config.fleets.some((f) => f.name === values.fleet)) {
        const names = config.fleets.map((f) => f.name);
        io.stderr(
            `dr: no fleet named "${values.fleet}"; ${didYouMean(values.fleet, names)}fleets: ${names.join(", ")}\n`,
        );
        return 2;
    }
    const regions = fleetRegions(config);
    if (values.region && !regions.includes(values.region)) {
        io.stderr(
            `dr: no AWS fleet runs in region "${values.region}"; ${didYouMean(values.region, regions)}regions with fleets: ${regions.join(", ") || "none"}\n`,
        );
        return 2;
    }
    const declared = await (io.buildPlan ?? buildPlan)({ stack: values.stack, config: values.config });
    const stack = declared.stack;
    const scope = values.fleet
        ? fleetScope(declared.resources, values.fleet)
        : regionScope(declared.resources, values.region ?? "");
    if (!scope) {
        io.stderr(
            `dr: the plan declares no ${values.fleet ? `fleet ${values.fleet}` : `fleet in ${values.region ?? ""}`} (a bug)\n`,
        );
        return 1;
    }
    // The region's image repositories: fixed names, left in the lost region's account by the evacuation.
    const inScope = new Set(scope.resources.map((r) => r.urn));
    const readoptions = declared.resources
        .filter((r) => r.protect && r.type === "aws:ecr/repository:Repository" && typeof r.inputs.name === "string")
        .filter((r) => inScope.has(r.urn))
        .map((r) => ({ resource: r.name, id: String(r.inputs.name) }));
    if (values.lost) {
        const evacuated = evacuation(declared.resources, values.region ?? "");
        io.stdout(
            renderEvacuation(evacuated, stack, { to: values.to, readoptions, homeRegion: config.homeRegion }) + "\n",
        );
        return 0;
    }
    const versions = parseVersionsText(readImageFiles(ROOT).versionsJson ?? "{}");
    const pushes = pushTargets(config.images, versions.ok ? versions.value : {}, scope.region ? [scope.region] : []);
    const universe = declared.resources.map((r) => r.urn);
    io.stdout(renderRecovery(scope, universe, stack, { pushes, verbose: values.verbose === true }) + "\n");
    return 0;
}
