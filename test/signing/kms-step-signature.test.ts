import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { kmsStepPayload } from "../../components/signing/kms";
import type * as signatureModule from "../../components/signing/kms-step-signature";
import {
    KMS_STEP_SIGNATURE_MODULE,
    KMS_STEP_SIGNATURE_TYPE,
    kmsStepSignatureProvider,
} from "../../components/signing/kms-step-signature";
import { installMocks } from "../agents/mocks";
import { type FakeKms, startFakeKms } from "./fake-kms";
import { VECTOR_STEP } from "./fixtures";

/* The signature of one stored step by a KMS key, made in a dynamic provider's create (ECDSA is randomised: signing in
 * the program would change every stored step on every preview). Signing through a fake KMS and verifying:
 * kms.test.ts. Here: the provider's id, diff and refusals, and the resource as the engine sees it. */

const TYPE = `pulumi-nodejs:dynamic/${KMS_STEP_SIGNATURE_MODULE}:${KMS_STEP_SIGNATURE_TYPE}`;
const payload = kmsStepPayload(VECTOR_STEP, { repositoryUrl: "https://github.com/acme/app.git" });
const { registered, settle, install } = installMocks();

let kms: FakeKms;
before(async () => {
    kms = await startFakeKms();
    install();
    const { KmsStepSignature }: typeof signatureModule = await import("../../components/signing/kms-step-signature");
    new KmsStepSignature("app-sig-0", { keyArn: kms.keyArn, payload });
    new KmsStepSignature("app-sig-1", {
        keyArn: kms.keyArn,
        payload: kmsStepPayload({ commands: ["x"] }, { repositoryUrl: "r" }),
    });
    await settle();
});
after(async () => {
    await kms.stop();
});

const provider = () =>
    kmsStepSignatureProvider({
        endpoint: kms.endpoint,
        credentials: { accessKeyId: "AKIDFAKE", secretAccessKey: "fake" },
    });
const inputs = (keyArn: string, p = payload) => ({ keyArn, payload: p.payload, signedFields: [...p.signedFields] });

describe("kmsStepSignatureProvider", () => {
    it("create: the id is a digest of the key and payload, the same for the same inputs, and the state keeps them", async () => {
        const a = await provider().create(inputs(kms.keyArn));
        const b = await provider().create(inputs(kms.keyArn));
        assert.match(a.id, /^[0-9a-f]{32}$/);
        assert.equal(a.id, b.id);
        // ECDSA is randomised: the values differ, the id does not.
        assert.notEqual(a.outs.value, b.outs.value);
        assert.deepEqual(
            { keyArn: a.outs.keyArn, payload: a.outs.payload, signedFields: a.outs.signedFields },
            inputs(kms.keyArn),
        );
        const other = await provider().create(
            inputs(kms.keyArn, kmsStepPayload({ commands: ["y"] }, { repositoryUrl: "r" })),
        );
        assert.notEqual(other.id, a.id);
    });

    it("create refuses a key that is not an ARN before it asks KMS anything", async () => {
        const before = kms.requests.length;
        await assert.rejects(provider().create(inputs("alias/signing")), /"alias\/signing" is not a KMS key ARN/);
        assert.equal(kms.requests.length, before);
    });

    it("diff replaces, creating the new signature before deleting the old; delete does nothing", async () => {
        const p = provider();
        assert.ok(p.diff && p.delete);
        const changed = await p.diff("id", { keyArn: "a", payload: "p" }, { keyArn: "a", payload: "q" });
        assert.deepEqual(changed, { changes: true, replaces: ["payload"], deleteBeforeReplace: false });
        const before = kms.requests.length;
        await p.delete("id", inputs(kms.keyArn));
        assert.equal(kms.requests.length, before);
    });
});

describe("KmsStepSignature", () => {
    it("registers under the dynamic type token with what it signs as inputs, and no value until the deploy", () => {
        const sig = registered.find((r) => r.name === "app-sig-0");
        assert.equal(sig?.type, TYPE);
        assert.equal(sig?.custom, true);
        assert.equal(sig?.inputs.keyArn, kms.keyArn);
        assert.equal(sig?.inputs.payload, payload.payload);
        assert.deepEqual(sig?.inputs.signedFields, [...payload.signedFields]);
        assert.equal(sig?.inputs.value, undefined);
    });

    it("every signature carries the same serialized provider, without test overrides", () => {
        const providers = registered.filter((r) => r.type === TYPE).map((r) => r.inputs.__provider);
        assert.equal(providers.length, 2);
        assert.equal(typeof providers[0], "string");
        assert.equal(providers[0], providers[1]);
        assert.ok(!String(providers[0]).includes("AKIDFAKE"));
        assert.ok(!String(providers[0]).includes("127.0.0.1"));
    });
});
