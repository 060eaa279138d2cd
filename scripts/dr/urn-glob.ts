/*
 * URN patterns as `pulumi up|preview|refresh|destroy --target`, `--replace` and `--target-replace` read them
 * (pulumi/pulumi v3.259.0 pkg/resource/deploy/deployment.go NewUrnTargets, getMatcher; the operations' commands in
 * pkg/cmd/pulumi/operations/{up,preview,refresh,destroy}.go pass every flag value through NewUrnTargets). Wildcards
 * arrived in Pulumi v3.24.0 (CHANGELOG.md 3.24.0, pulumi/pulumi#8883; docs: pulumi.com/docs/iac/operations/
 * stack-management/targeted-updates). The semantics, re-stated:
 * - a value with no `*` is a literal URN, compared whole;
 * - otherwise the whole URN must match: `**` matches any run of characters, `:` included, and `*` any run without a
 *   `:` (so a `*` never crosses the `::` between URN parts, nor the `:` inside a type token); every other character
 *   matches itself.
 * `pulumi state unprotect` and `pulumi state delete` take literal URNs only (pkg/cmd/pulumi/state/state_unprotect.go,
 * state_delete.go): no pattern is ever printed for them.
 */

/** Whether the CLI reads `value` as a pattern rather than a literal URN. */
export const isUrnGlob = (value: string): boolean => value.includes("*");

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

/** The regular expression the CLI builds from a pattern: `**` first, then `*`, the rest quoted. */
export function urnGlobRegExp(pattern: string): RegExp {
    const body = pattern
        .split("**")
        .map((segment) => segment.split("*").map(escape).join("[^:]*"))
        .join(".*");
    return new RegExp(`^${body}$`);
}

/** Whether `--target <pattern>` selects `urn`. */
export function urnGlobMatches(pattern: string, urn: string): boolean {
    return isUrnGlob(pattern) ? urnGlobRegExp(pattern).test(urn) : pattern === urn;
}
