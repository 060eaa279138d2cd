/*
 * An image repository lives and dies with its images. The docker provider never deletes a pushed image
 * (pulumi/pulumi-docker v5.1.0 provider/provider.go: an Image's Delete does nothing) and the repositories keep
 * IMMUTABLE tags, so a repository left behind still holds every tag the program would push into it again when its
 * image or region is added back: `pulumi up` then fails on ImageTagAlreadyExistsException (AWS ECR User Guide,
 * "Preventing image tags from being overwritten"). So a repository is protected (its removal is deliberate:
 * `pulumi state unprotect`), not retained, and force-deleted with its images (terraform-provider-aws
 * internal/service/ecr/repository.go resourceRepositoryDelete: DeleteRepository's Force is the stored force_delete;
 * without it a repository holding images is not deleted): re-adding it creates an empty repository.
 */
import type { ResourceRule } from "../rules";

export const ecrRepositoriesWhole: ResourceRule = {
    kind: "resource",
    name: "ecr-repositories-whole",
    description:
        "ECR repositories are protected, not retained on delete, and force-deleted with their images (forceDelete): removing an image or a region is deliberate and complete, and adding it back creates an empty repository whose pushes succeed.",
    enforcementLevel: "mandatory",
    severity: "high",
    types: ["aws:ecr/repository:Repository"],
    remediation: "Create the repository with forceDelete: true and { protect: true, retainOnDelete: false }.",
    check(resource) {
        const problems: string[] = [];
        if (resource.protect !== true) problems.push("not protected (its removal must be deliberate)");
        // CrossGuard does not show retainOnDelete (undefined there); the offline plan does.
        if (resource.retainOnDelete === true)
            problems.push("retained on delete (left behind with its tags, which a re-add would push again)");
        if (resource.inputs.forceDelete !== true)
            problems.push("not forceDelete (ECR refuses to delete a repository that holds images)");
        if (problems.length === 0) return [];
        return [
            `ECR repository "${resource.name}" is ${problems.join("; ")}. Fix: create it with forceDelete: true and { protect: true, retainOnDelete: false } (components/images/agent-image.ts ECR_REPOSITORY_STANCE).`,
        ];
    },
};
