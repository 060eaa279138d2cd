import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Only the SDKs' public entry points: their deep paths (runtime/*, proto/*, proxy...) are internals that any release
// may change. scripts/plan/capture.ts `attachRecorder` is the one reach into the SDK, through the resource monitor's
// exported wire interface.
const SDK_INTERNALS = {
    group: ["@pulumi/pulumi/*", "@pulumi/policy/*"],
    message: "import the package's entry point (@pulumi/pulumi, @pulumi/policy): deep paths are SDK internals",
};

// Members of the SDK's mock monitor outside the wire interface (@pulumi/pulumi 3.276.0 runtime/mocks.js MockMonitor);
// test/plan/sdk-seam.test.ts scans for them (and the monitor's `resources`) too.
const MOCK_MONITOR_INTERNALS = [
    "newUrn",
    "getRegisteredResources",
    "transformCallbacks",
    "recordTransformCallback",
].map((property) => ({
    property,
    message:
        "a private member of the SDK's mock monitor: use its wire methods, as scripts/plan/capture.ts attachRecorder does",
}));

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", "out/", ".plan/", ".scratch/"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
            "@typescript-eslint/explicit-module-boundary-types": "off",
            eqeqeq: ["error", "always"],
            "no-restricted-imports": ["error", { patterns: [SDK_INTERNALS] }],
            "no-restricted-properties": ["error", ...MOCK_MONITOR_INTERNALS],
        },
    },
    {
        // components/config is the bottom layer (test/config/layers.test.ts says the same): a check that needs a
        // higher concern lives beside that concern, and components/platform-config.ts composes them.
        files: ["components/config/**/*.ts"],
        rules: {
            "no-restricted-imports": [
                "error",
                {
                    patterns: [
                        SDK_INTERNALS,
                        {
                            group: ["../*"],
                            message:
                                "components/config imports nothing above it: put the check beside its concern and compose it in components/platform-config.ts",
                        },
                    ],
                },
            ],
        },
    },
    {
        files: ["**/*.cjs"],
        languageOptions: { sourceType: "commonjs", globals: { require: "readonly", process: "readonly" } },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
);
