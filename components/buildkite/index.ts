export { BuildkiteOrganization, BuildkiteOrganizationArgs } from "./organization";
export { BuildkitePipeline, BuildkitePipelineArgs } from "./pipeline";
export {
    GITHUB_WEBHOOK_EVENTS,
    displayName,
    pipelineInputs,
    repositoryUrl,
    splitRepository,
    uploadSteps,
} from "./pipeline-settings";
