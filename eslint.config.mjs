import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
            // Only the SDKs' public entry points: their deep paths (runtime/*, proto/*, proxy...) are internals that
            // any release may change. scripts/plan/capture.ts `attachRecorder` is the one reach into the SDK.
            "no-restricted-imports": [
                "error",
                {
                    patterns: [
                        {
                            group: ["@pulumi/pulumi/*", "@pulumi/policy/*"],
                            message:
                                "import the package's entry point (@pulumi/pulumi, @pulumi/policy): deep paths are SDK internals",
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
