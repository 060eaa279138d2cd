/*
 * The objects a SecretsBucket uploads for the hooks bundle: one per bundle file, under the bundle's content-addressed
 * prefix. Pure, so the hook tests upload to their S3 server exactly what the component would. The keys come from
 * components/hooks/bundle.ts (bundleObjectKey), the same definition bootstrap.sh is rendered with.
 */
import { bundleObjectKey, PLATFORM_KEY_PREFIX } from "../hooks/bundle";
import { hookObjectName } from "./naming";

/** The hooks bundle as this module needs it: a content hash and the files (paths relative to the bundle root). */
export interface HooksBundleFiles {
    /** Content hash of the whole bundle; the bundle's key prefix, so any change to a hook changes it. */
    readonly hash: string;
    /** Every file of the bundle, manifest included (see `bundleUploadFiles` in components/hooks). */
    readonly files: readonly {
        /** Path relative to the bundle root, e.g. `pre-command`; never a key. */
        readonly path: string;
        /** The file's text. */
        readonly content: string;
        /** MIME type to store. @default "text/x-shellscript" */
        readonly contentType?: string;
    }[];
}

/** One object of the hooks bundle, as a SecretsBucket declares it. */
export interface HookObject {
    /** Resource name: stable across bundle versions (derived from the path, not the key). */
    readonly name: string;
    /** Object key, `_ci-platform/hooks/<hash>/<path>`. */
    readonly key: string;
    /** The object's text. */
    readonly content: string;
    /** MIME type. */
    readonly contentType: string;
}

/**
 * The hook objects of the SecretsBucket component named `bucketComponent`, sorted by path. Throws when a path is
 * empty, absolute, or a key already (starts with `_ci-platform/`), which would nest one prefix in another.
 */
export function hookObjects(bucketComponent: string, bundle: HooksBundleFiles): HookObject[] {
    const bad = bundle.files.filter(
        (f) => f.path === "" || f.path.startsWith("/") || f.path.startsWith(`${PLATFORM_KEY_PREFIX}/`),
    );
    if (bad.length > 0)
        throw new Error(
            `hooks bundle paths must be relative to the bundle root, not keys: ${bad.map((f) => `"${f.path}"`).join(", ")}`,
        );
    return [...bundle.files]
        .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
        .map((f) => ({
            name: hookObjectName(bucketComponent, f.path),
            key: bundleObjectKey(bundle.hash, f.path),
            content: f.content,
            contentType: f.contentType ?? "text/x-shellscript",
        }));
}
