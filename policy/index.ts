/*
 * The ci-platform CrossGuard policy pack: `pulumi preview --policy-pack policy` (from the project root) runs it
 * against the real preview. The rules live in rules.ts; `npm run plan` runs the same rules offline (offline.ts).
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, packArgs } from "./pack";

new PolicyPack(PACK_NAME, packArgs());
