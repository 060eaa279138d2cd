export { AWS_REGIONS, AWS_REGION_NAMES, AwsRegion, continentOf } from "./regions";
export { checkAccess, checkoutUrl, fleetsRunning, requiredSecretNames } from "./access-checks";
export { findCycle } from "./cross-checks";
export {
    CONFIG_NAMESPACE,
    ConfigIssue,
    ConfigPath,
    Result,
    didYouMean,
    formatConfigPath,
    formatIssue,
    nearest,
} from "./issues";
export { RawConfig, SECRET_VALUE_PLACEHOLDER, parsePlatformConfig, rawConfigFromMap, secretsShape } from "./load";
export { PREDEFINED_INTERVALS, cronLineProblem } from "./cron";
export { SECRET_CONFIG_KEY, StackFileCheck, checkStackFile, withSchemaIssues } from "./stack-file";
export {
    ConfigError,
    ExtraCheck,
    loadStackConfig,
    loadStackSecrets,
    readRawStackConfig,
    runtimeSecretKeys,
    secretKeyIssues,
} from "./stack-config";
export * from "./schema";
