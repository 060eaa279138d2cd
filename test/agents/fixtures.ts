import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { parsePlatformConfig, RawConfig } from "../../components/config/load";
import type { PlatformConfig } from "../../components/config/schema";

/** Marks every value that stood for a `secure:` value in Pulumi.prod.yaml, so tests can look for leaks. */
export const SENTINEL = "SENTINEL-7f3a";

/** Replaces each `{ secure: ... }` with a sentinel string, as the decrypted config would hold plain text. */
function decrypt(value: unknown, at: string): unknown {
    if (Array.isArray(value)) return value.map((v, i) => decrypt(v, `${at}[${i}]`));
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (Object.keys(obj).length === 1 && typeof obj.secure === "string") return `${SENTINEL}:${at}`;
        return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, decrypt(v, `${at}.${k}`)]));
    }
    return value;
}

/** The raw `ci-platform:*` config of Pulumi.prod.yaml, secure values replaced by sentinels. */
export function prodRawConfig(): Record<string, unknown> {
    const file = parse(readFileSync(path.join(__dirname, "../../Pulumi.prod.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(file.config))
        if (key.startsWith("ci-platform:")) raw[key.slice("ci-platform:".length)] = decrypt(value, key);
    return raw;
}

/** Parses a raw config and fails loudly with its issues. */
export function mustParse(raw: RawConfig): PlatformConfig {
    const result = parsePlatformConfig(raw);
    if (!result.ok) throw new Error(result.error.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n"));
    return result.value;
}

/** The prod config, parsed. */
export const prodConfig = (): PlatformConfig => mustParse(prodRawConfig());

/** A tiny hooks bundle. */
export const FAKE_BUNDLE = {
    hash: "abc123",
    files: [
        { path: "hooks/environment", content: "#!/bin/bash\necho env\n" },
        { path: "hooks/pre-exit", content: "#!/bin/bash\necho bye\n" },
    ],
} as const;
