export { SENTINEL, mustParse, prodConfig, prodRawConfig } from "../fixtures/config";

/** A tiny hooks bundle. */
export const FAKE_BUNDLE = {
    hash: "abc123",
    files: [
        { path: "hooks/environment", content: "#!/bin/bash\necho env\n" },
        { path: "hooks/pre-exit", content: "#!/bin/bash\necho bye\n" },
    ],
} as const;
