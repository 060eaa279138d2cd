export * from "./jcs";
export * from "./jws";
export * from "./step-signature";
