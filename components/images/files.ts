import * as fs from "node:fs";
import * as path from "node:path";
import type { ImageFiles } from "./check";
import { type ContextFile, dockerignorePath } from "./context";
import { buildContext, dockerfilePath } from "./dockerfile";
import { VERSIONS_FILE } from "./versions";

/*
 * The only file reading of the images module: the pins, the Dockerfiles and their `.dockerignore` files under
 * `agent-images/` (and, for tests, a whole build context), read from the
 * repository root, so everything else stays pure.
 */

/** The files under `rootDir/agent-images/`, read lazily; a missing file reads as undefined. */
export function readImageFiles(rootDir: string): ImageFiles {
    return {
        versionsJson: readIfPresent(path.join(rootDir, VERSIONS_FILE)),
        dockerfile: (image) => readIfPresent(path.join(rootDir, dockerfilePath(image))),
        dockerignore: (image) => readIfPresent(path.join(rootDir, dockerignorePath(image))),
    };
}

function readIfPresent(file: string): string | undefined {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR")
            return undefined;
        throw e;
    }
}

/**
 * The provider's view of an image's build context on disk, for {@link contextDigestModel}: every regular file
 * under `agent-images/<image>/` with its mode, the Dockerfile's bytes and the `.dockerignore` text. Used by tests
 * to show what a rebuild depends on.
 */
export function readBuildContext(
    rootDir: string,
    image: string,
): { dockerfile: Buffer; files: ContextFile[]; ignoreText: string | undefined } {
    const dir = path.join(rootDir, buildContext(image));
    const files: ContextFile[] = [];
    const walk = (rel: string) => {
        for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
            const relPath = rel === "" ? entry.name : `${rel}/${entry.name}`;
            if (entry.isDirectory()) walk(relPath);
            else {
                const abs = path.join(dir, relPath);
                files.push({ path: relPath, mode: fs.lstatSync(abs).mode, content: fs.readFileSync(abs) });
            }
        }
    };
    walk("");
    return {
        dockerfile: fs.readFileSync(path.join(rootDir, dockerfilePath(image))),
        files,
        ignoreText: readIfPresent(path.join(rootDir, dockerignorePath(image))),
    };
}
