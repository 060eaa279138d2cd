export { BuildkiteOrganization, BuildkiteOrganizationArgs } from "./organization";
export { BuildkitePipeline, BuildkitePipelineArgs } from "./pipeline";
export {
    ARTIFACTS_READ_RULE_TYPE,
    PipelineTriggerRules,
    PipelineTriggerRulesArgs,
    TRIGGER_RULE_TYPE,
    TriggerRuleEdge,
    artifactsReadRuleValue,
    triggerRuleValue,
} from "./trigger-rules";
export {
    GITHUB_WEBHOOK_EVENTS,
    PUBLIC_REPOSITORY_TAG,
    displayName,
    pipelineInputs,
    repositoryUrl,
    splitRepository,
} from "./pipeline-settings";
