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
export { RawConfig, parsePlatformConfig, rawConfigFromMap } from "./load";
export { ConfigError, ExtraCheck, loadStackConfig, readRawStackConfig } from "./stack-config";
export * from "./schema";
