/**
 * The whole platform config: parsed by the config model (components/config), then checked by every concern's pure
 * checks, composed here, above every concern, in one fixed order. components/config imports nothing above it
 * (test/config/layers.test.ts); whatever needs the config with all its checks (the program, plan, dr, simulate)
 * reads it through this module.
 *
 * @module
 */
import { fleetIssues, physicalNameIssues, secretFileIssues } from "./agents/config-checks";
import { checkDeployRoles } from "./access/checks";
import {
    ConfigIssue,
    LoadStackConfigOptions,
    PlatformConfig,
    RawConfig,
    Result,
    checkAccess,
    loadStackConfigWith,
    parseConfigWith,
} from "./config";
import { referenceIssues } from "./config/cross-checks";
import { checkReleaseReadToken } from "./config/release-checks";
import { checkRenames } from "./config/renames";
import { crossClusterTriggerIssues, triggerIssues } from "./graph/config-checks";
import { imageRefIssues } from "./images/config-checks";
import { signingIssues } from "./signing/config-checks";
import { packageIssues } from "./steps/config-checks";

/**
 * Runs every check that needs the whole config and returns all problems found, concern by concern: renames and
 * physical names, signing, names and references, fleets, image references, packages, triggers, secret files, then
 * (unless `access: false`) checkout and secrets, triggers across clusters and the release read token, and last the
 * deploy roles. `access: false` is for a config whose `secrets` or `fleets` did not parse: those checks would report
 * every credential as missing.
 */
export function crossCheck(config: PlatformConfig, options: { readonly access?: boolean } = {}): ConfigIssue[] {
    const access = options.access !== false;
    return [
        ...checkRenames(config),
        ...physicalNameIssues(config),
        ...signingIssues(config),
        ...referenceIssues(config),
        ...fleetIssues(config),
        ...imageRefIssues(config),
        ...packageIssues(config),
        ...triggerIssues(config),
        ...secretFileIssues(config),
        ...(access
            ? [...checkAccess(config), ...crossClusterTriggerIssues(config), ...checkReleaseReadToken(config)]
            : []),
        ...checkDeployRoles(config),
    ];
}

/** The last config parsed, by the JSON text of its raw config: see {@link parsePlatformConfig}. */
let lastParse: { readonly key: string; readonly result: Result<PlatformConfig, ConfigIssue[]> } | undefined;

/**
 * Parses and validates the whole platform config (components/config/load.ts `parseConfigWith`, with every check of
 * {@link crossCheck}). Returns the typed config with defaults applied, or every problem found, sorted by path.
 *
 * One parse per run: the plan parses the stack's config in the program (index.ts, through {@link loadStackConfig})
 * and needs it again for its diagrams (scripts/plan/run.ts `stepsOverview`); the second call finds the first's result.
 * The last result is kept, keyed by the JSON text of `raw`, and each caller gets its own copy (a structured clone,
 * far cheaper than the schema and the checks), so what one caller changes no other sees.
 */
export function parsePlatformConfig(raw: RawConfig): Result<PlatformConfig, ConfigIssue[]> {
    const key = JSON.stringify(raw);
    if (lastParse?.key === key) return structuredClone(lastParse.result);
    const result = parseConfigWith(raw, crossCheck);
    lastParse = { key, result: structuredClone(result) };
    return result;
}

/**
 * Reads and validates the running stack's config (or `raw`) with every check, before any resource is registered:
 * components/config/stack-config.ts `loadStackConfigWith`, with {@link parsePlatformConfig}. Throws a ConfigError
 * listing every problem; the returned config's secrets hold names only.
 */
export function loadStackConfig(options: LoadStackConfigOptions = {}): PlatformConfig {
    return loadStackConfigWith(parsePlatformConfig, options);
}
