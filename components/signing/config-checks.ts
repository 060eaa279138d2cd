/**
 * The cross-checks of `clusters[].signing` against the rest of the config. Pure: the validated config in, issues
 * out. Names and paths only: never a key's material.
 */
import type { ConfigIssue } from "../config/issues";
import type { PlatformConfig } from "../config/schema";

/** Problems of the signing config: a jwks cluster without its private set, a private set of no jwks cluster. */
export function signingIssues(config: Pick<PlatformConfig, "clusters" | "secrets">): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const privateSets = config.secrets.signing ?? {};
    config.clusters.forEach((cluster, i) => {
        if (cluster.signing?.mode === "jwks" && privateSets[cluster.name] === undefined)
            issues.push({
                path: ["clusters", i, "signing", "mode"],
                message: `cluster "${cluster.name}" signs with a JWKS, but ci-platform:secrets.signing.${cluster.name} holds no private key set`,
                fix: `pulumi config set --secret --path 'ci-platform:secrets.signing.${cluster.name}' "$(cat private-jwks.json)" (an Ed25519 JWKS: buildkite-agent tool keygen --alg EdDSA --key-id <kid>)`,
            });
    });
    for (const name of Object.keys(privateSets).sort()) {
        const cluster = config.clusters.find((c) => c.name === name);
        if (cluster?.signing?.mode !== "jwks")
            issues.push({
                path: ["secrets", "signing", name],
                message:
                    cluster === undefined
                        ? `"${name}" is not a declared cluster`
                        : `cluster "${name}" does not sign with a JWKS (clusters[].signing.mode is not jwks), so its private key set is unused`,
                fix: "remove the entry, or set the cluster's signing to mode jwks with its public key in verificationKeys",
            });
    }
    return issues;
}
