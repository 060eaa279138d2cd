import * as fs from "node:fs";
import * as path from "node:path";
import type { ImageFiles } from "./check";
import { dockerfilePath } from "./dockerfile";
import { VERSIONS_FILE } from "./versions";

/*
 * The only file reading of the images module: the pins and the Dockerfiles under `agent-images/`, read from the
 * repository root, so everything else stays pure.
 */

/** The files under `rootDir/agent-images/`, read lazily; a missing file reads as undefined. */
export function readImageFiles(rootDir: string): ImageFiles {
    return {
        versionsJson: readIfPresent(path.join(rootDir, VERSIONS_FILE)),
        dockerfile: (image) => readIfPresent(path.join(rootDir, dockerfilePath(image))),
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
