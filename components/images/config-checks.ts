/**
 * The config check of image references: every `image: { name, variant }` of a pipeline or a package names a declared
 * image and one of its variants. Pure: a config in, its problems out; components/platform-config.ts runs it with
 * every other check.
 *
 * @module
 */
import { ConfigIssue, didYouMean } from "../config/issues";
import { PlatformConfig } from "../config/schema";

/** Each pipeline's image reference, then its packages', in pipeline order. */
export function imageRefIssues(config: Pick<PlatformConfig, "images" | "pipelines">): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const imagesByName = new Map(config.images.map((i) => [i.name, i]));
    const checkImage = (ref: { name: string; variant: string } | undefined, path: (string | number)[]) => {
        if (!ref) return;
        const image = imagesByName.get(ref.name);
        if (!image) {
            issues.push({
                path: [...path, "name"],
                unknownName: ref.name,
                message: `unknown image "${ref.name}"; ${didYouMean(ref.name, imagesByName.keys())}declared images: ${[...imagesByName.keys()].join(", ") || "none"}`,
                fix: "use the name of an image in ci-platform:images, or declare it there",
            });
        } else if (!image.variants.includes(ref.variant)) {
            issues.push({
                path: [...path, "variant"],
                message: `image "${ref.name}" has no variant "${ref.variant}"; ${didYouMean(ref.variant, image.variants)}its variants: ${image.variants.join(", ")}`,
                fix: `use one of its variants, or add "${ref.variant}" to the image's variants`,
            });
        }
    };
    config.pipelines.forEach((pipeline, i) => {
        checkImage(pipeline.image, ["pipelines", i, "image"]);
        pipeline.packages.forEach((pkg, j) => checkImage(pkg.image, ["pipelines", i, "packages", j, "image"]));
    });
    return issues;
}
