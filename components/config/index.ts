export { AWS_REGIONS, AWS_REGION_NAMES, AwsRegion, continentOf, fleetRegions, platformRegions } from "./regions";
export { checkAccess, checkoutUrl, fleetsRunning, requiredSecretNames } from "./access-checks";
export {
    CONFIG_NAMESPACE,
    ConfigIssue,
    ConfigPath,
    IssueContext,
    Result,
    SourcePosition,
    didYouMean,
    entryName,
    formatConfigPath,
    formatIssue,
    issueFormatter,
    nearest,
} from "./issues";
export {
    CrossCheck,
    RawConfig,
    SECRET_VALUE_PLACEHOLDER,
    parseConfigWith,
    rawConfigFromMap,
    secretsShape,
} from "./load";
export { PREDEFINED_INTERVALS, cronLineProblem } from "./cron";
export {
    HONOURED_SETTINGS,
    SECRET_CONFIG_KEY,
    StackFileCheck,
    checkStackFile,
    stackFileContext,
    withSchemaIssues,
} from "./stack-file";
export {
    ConfigError,
    ExtraCheck,
    formatConfigError,
    LoadStackConfigOptions,
    loadStackConfigWith,
    loadStackSecrets,
    readRawStackConfig,
    runtimeSecretKeys,
    SECRET_KEYS_ENV,
    secretKeyIssues,
} from "./stack-config";
export * from "./schema";
