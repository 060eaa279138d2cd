export { BuildkiteOrganization, BuildkiteOrganizationArgs } from "./organization";
export { BuildkitePipeline, BuildkitePipelineArgs } from "./pipeline";
export { PipelineTriggerRules, PipelineTriggerRulesArgs, TRIGGER_RULE_TYPE, triggerRuleValue } from "./trigger-rules";
export {
    GITHUB_WEBHOOK_EVENTS,
    displayName,
    pipelineInputs,
    repositoryUrl,
    splitRepository,
} from "./pipeline-settings";
