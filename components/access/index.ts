export { checkDeployRoles } from "./checks";
export { DeployRoles, oidcProviderArn, providerKey } from "./deploy-roles";
export type { DeployRolesArgs } from "./deploy-roles";
export {
    BUILDKITE_ISSUER,
    GITHUB_ACTIONS_ISSUER,
    MANAGED_POLICIES,
    STS_AUDIENCE,
    issuerHost,
    issuerOf,
    previewDenyPolicy,
    trustPolicy,
    trustedSubjects,
} from "./policy-documents";
export { DEPLOY_ACCESS, deployRoleSchema } from "./schema";
export type { DeployAccess, DeployRoleConfig } from "./schema";
