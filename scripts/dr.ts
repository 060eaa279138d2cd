/*
 * npm run dr -- --fleet NAME | --region REGION [--stack NAME | --config FILE]
 *
 * Prints the exact pulumi commands that rebuild one fleet or every fleet of one region, what is retained, and what
 * is recreated from config. The resources named are checked against the offline plan of the same config, so a
 * command never targets a URN the program does not declare. See README.md, "Recovery runbook".
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { RecoveryPlan, fleetResources, regionResources } from "../components/agents";
import { hookObjectName, secretsBucketName } from "../components/agents/naming";
import { didYouMean, formatIssue, parsePlatformConfig } from "../components/config";
import { buildPlan, rawPlatformConfig, stackNameOf } from "./plan";
import { readStackFile } from "./plan/stack-file";

const ROOT = path.resolve(__dirname, "..");

/** The runbook text for a recovery plan. Pure. */
export function renderRecovery(plan: RecoveryPlan, scope: string, stack: string): string {
    const lines: string[] = [];
    const list = (title: string, urns: readonly string[]) => {
        lines.push(`${title} (${urns.length}):`);
        for (const urn of urns) lines.push(`  ${urn}`);
        lines.push("");
    };
    lines.push(`Recovery of ${scope} in stack ${stack}`);
    lines.push(
        `Fleets: ${plan.fleets.join(", ")}${plan.regions.length ? `; region(s): ${plan.regions.join(", ")}` : ""}`,
        "",
    );
    list("Retained: stateful, protected, retained on delete; never replaced", plan.retained);
    list("Recreated from config (replaced)", plan.recreated);
    list(
        "Restored from config if missing or drifted (secrets objects, hooks, providers, settings)",
        plan.resources.filter((r) => r.action === "restore").map((r) => r.urn),
    );
    lines.push("Rebuild in place (the region still works, the fleet is broken):");
    lines.push(`  1. ${plan.commands.refresh}`);
    lines.push(`  2. ${plan.commands.rebuild}`);
    lines.push("");
    if (plan.regions.length > 0) {
        lines.push("Evacuate instead (the region is lost): first lift protection from its stateful resources,");
        lines.push("so that removing them from the stack leaves them in the account:");
        plan.commands.unprotect.forEach((c, i) => lines.push(`  ${i + 1}. ${c}`));
        lines.push(
            `  then set \`region:\` of ${plan.fleets.join(", ")} to a healthy region in Pulumi.${stack}.yaml,`,
            "  check `npm run plan -- --diff` (the new region gets its bucket, key, secrets objects, hooks and fleets),",
            `  and run \`pulumi up --stack ${stack}\`.`,
        );
    }
    return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
    const { values } = parseArgs({
        args: argv,
        options: {
            fleet: { type: "string" },
            region: { type: "string" },
            stack: { type: "string" },
            config: { type: "string" },
        },
    });
    if (!values.fleet === !values.region) {
        process.stderr.write("dr: give exactly one of --fleet NAME or --region REGION\n");
        return 1;
    }
    const file = values.config ?? path.join(ROOT, `Pulumi.${values.stack ?? "prod"}.yaml`);
    const parsed = parsePlatformConfig(rawPlatformConfig(readStackFile(file)));
    if (!parsed.ok) {
        process.stderr.write(parsed.error.map(formatIssue).join("\n") + "\n");
        return 2;
    }
    const config = parsed.value;
    // Check the scope before the (slower) plan, so a typo is answered at once.
    const stackName = values.stack ?? stackNameOf(file);
    const scoped = (stack: string, hookPaths: readonly string[]) =>
        values.fleet
            ? fleetResources(config, values.fleet, { stack, hookPaths })
            : regionResources(config, values.region ?? "", { stack, hookPaths, images: config.images });
    if (values.fleet && !config.fleets.some((f) => f.name === values.fleet)) {
        const names = config.fleets.map((f) => f.name);
        process.stderr.write(
            `dr: no fleet named "${values.fleet}"; ${didYouMean(values.fleet, names)}fleets: ${names.join(", ")}\n`,
        );
        return 2;
    }
    try {
        scoped(stackName, []);
    } catch (e) {
        process.stderr.write(`dr: ${(e as Error).message}\n`);
        return 2;
    }
    const declared = await buildPlan({ stack: values.stack, config: values.config });
    // The hook objects, as the program declares them in the home region's bucket (the same paths in every region).
    const hookPrefix = hookObjectName(secretsBucketName(config.homeRegion), "");
    const hookPaths = declared.resources
        .filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && r.name.startsWith(hookPrefix))
        .map((r) => r.name.slice(hookPrefix.length));
    const stack = declared.stack;
    const plan = scoped(stack, hookPaths);
    const urns = new Set(declared.resources.map((r) => r.urn));
    const unknown = plan.resources.filter((r) => !urns.has(r.urn));
    if (unknown.length > 0) {
        process.stderr.write(
            `dr: the recovery plan names resources the program does not declare (a bug):\n${unknown.map((r) => `  ${r.urn}`).join("\n")}\n`,
        );
        return 1;
    }
    process.stdout.write(
        renderRecovery(plan, values.fleet ? `fleet ${values.fleet}` : `region ${values.region}`, stack) + "\n",
    );
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e: unknown) => {
            process.stderr.write(`dr: ${(e as Error).message ?? String(e)}\n`);
            process.exit(1);
        },
    );
}
