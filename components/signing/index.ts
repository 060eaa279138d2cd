export * from "./jcs";
export * from "./jws";
export * from "./step-signature";
export * from "./stored-steps";
export * from "./config-checks";
export * from "./fleets";
export * from "./kms";
