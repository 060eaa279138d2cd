/*
 * Imported first by scripts/plan.ts, so that it runs before any other module of the plan loads. When the plan runs as
 * the command line (scripts/plan.ts is the process's main module), Node stops applying source maps here, before the
 * plan's modules and their dependencies load, rather than once they have: tsx 4 inlines a source map into each module
 * it transpiles while `process.sourceMapsEnabled` (tsx 4.23.15 dist/register-*.cjs `shouldApplySourceMap`), and Node
 * parses each one as it loads the module (node:internal/source_map/source_map_cache `maybeCacheSourceMap`). The
 * command line prints errors in one line, never a stack, so it needs none; loading the plan's modules without them
 * costs about 0.35 s less CPU (median of 8 paired runs). A test or another script that imports the plan keeps them.
 * CI_PLATFORM_PLAN_STACK_TRACES=1 keeps them, as capture.ts does.
 */
import * as path from "node:path";

/** Whether this process runs the plan's command line: scripts/plan.ts is its main module. */
export const PLAN_COMMAND_LINE = require.main?.filename === path.resolve(__dirname, "..", "plan.ts");

// The SDK also formats a stack for every resource (@pulumi/pulumi 3.276.0 resource.js `Resource.callsites`,
// `new Error().stack`), which source maps made several times dearer. Node's own switch (process.setSourceMapsEnabled,
// Node 16.6+).
if (PLAN_COMMAND_LINE && !process.env.CI_PLATFORM_PLAN_STACK_TRACES) process.setSourceMapsEnabled(false);
