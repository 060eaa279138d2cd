export { checkDeployRoles } from "./checks";
export { DeployRoles, oidcProviderArn, providerKey } from "./deploy-roles";
export type { DeployRolesArgs } from "./deploy-roles";
export {
    BUILD_SOURCES,
    BUILDKITE_ISSUER,
    GITHUB_ACTIONS_ISSUER,
    MANAGED_POLICIES,
    STS_AUDIENCE,
    issuerHost,
    issuerOf,
    previewDenyPolicy,
    readRoleTokenKeysPolicy,
    SESSION_TAGS,
    trustPolicy,
    trustedSubjects,
} from "./policy-documents";
export type { TrustContext } from "./policy-documents";
export { DEPLOY_ACCESS, deployRoleSchema } from "../config/deploy-roles";
export type { DeployAccess, DeployRoleConfig } from "../config/deploy-roles";
