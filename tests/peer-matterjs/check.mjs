// matter.js as an independent peer for the station's onboarding data: it
// decodes every QR payload and manual code dac-station-cli makes, computes
// the SPAKE2+ w0 and L from the passcode, salt and iterations, and makes
// codes of its own for the station to parse.  It also does the
// commissioner's attestation check (Matter core 6.2.3.1) on simulated
// boards the station provisioned: @matter/main 0.15 exports no
// commissioner-side validator, so the check is made here from its TLV
// codecs (attestation elements, the CD's payload), its DER codec (the CD's
// CMS envelope) and its ECDSA verification, with Node's X.509 for the chain.
//
//   DS_CLI=build/src/dac-station-cli DS_SIM=build/src/dac-station-sim \
//   DS_ATTESTATION_DUMP=build/tests/ds-attestation-dump DS_MATTERJS_DIR=build/peer-matterjs \
//     node --test --test-reporter=tap tests/peer-matterjs/check.mjs
//
// DS_MATTERJS_DIR holds node_modules with the @matter/main that
// package-lock.json pins (tools/run installs it there).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { X509Certificate, randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "node:test";
import assert from "node:assert/strict";

const cli = process.env.DS_CLI;
const dir = process.env.DS_MATTERJS_DIR;
const have = dir !== undefined && existsSync(join(dir, "node_modules", "@matter", "main"));
const skip = have ? false : `matter.js is not installed in ${dir} (tools/run installs it)`;

let general, types, nodejs, protocol;
if (have) {
    const require = createRequire(join(dir, "package.json"));
    general = require("@matter/general");
    types = require("@matter/types");
    nodejs = require("@matter/nodejs");
    protocol = require("@matter/protocol");
}

function station(args) {
    const out = execFileSync(cli, args, { encoding: "utf8" });
    return JSON.parse(out.trim().split("\n").pop());
}

function makeBoard(extra = []) {
    return station(["onboarding", "new", "--json", "--show-passcode", ...extra]);
}

// The Matter SDK's test values (known answers) and a few random boards.
function boards() {
    const list = [
        makeBoard(["--vid", "FFF1", "--pid", "8001", "--passcode", "20202021", "--discriminator", "3840",
                   "--salt-hex", Buffer.from("SPAKE2P Key Salt").toString("hex"), "--iterations", "1000",
                   "--discovery", "4"]),
    ];
    for (let i = 0; i < 4; i++) {
        list.push(makeBoard(["--vid", "FFF1", "--pid", (0x8000 + i).toString(16)]));
    }
    list.push(makeBoard(["--vid", "FFF2", "--pid", "ABCD", "--flow", "custom", "--iterations", "100000",
                         "--salt-hex", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"]));
    list.push(makeBoard(["--vid", "FFF4", "--pid", "0001", "--flow", "user-intent", "--discriminator", "4095"]));
    return list;
}

test("matter.js decodes the station's QR payloads and manual codes", { skip }, () => {
    const all = boards();
    assert.equal(all[0].qr, "MT:-24J0AFN00KA0648G00");
    assert.equal(all[0].manual, "34970112332");
    for (const b of all) {
        const [qr] = types.QrPairingCodeCodec.decode(b.qr);
        assert.equal(qr.version, 0);
        assert.equal(qr.passcode, b.passcode, b.qr);
        assert.equal(qr.discriminator, b.discriminator, b.qr);
        assert.equal(qr.vendorId, b.vid, b.qr);
        assert.equal(qr.productId, b.pid, b.qr);

        const manual = types.ManualPairingCodeCodec.decode(b.manual);
        assert.equal(manual.passcode, b.passcode, b.manual);
        assert.equal(manual.shortDiscriminator, b.discriminator >> 8, b.manual);
        if (b.manual.length === 21) {
            assert.equal(qr.flowType, types.CommissioningFlowType.Custom);
            assert.equal(manual.vendorId, b.vid);
            assert.equal(manual.productId, b.pid);
        } else {
            assert.equal(b.manual.length, 11);
        }
    }
});

test("matter.js computes the station's SPAKE2+ verifier", { skip }, async () => {
    const crypto = new nodejs.NodeJsCrypto();
    for (const b of boards()) {
        const salt = Buffer.from(b.salt, "hex");
        const { w0, L } = await general.Spake2p.computeW0L(crypto, { iterations: b.iterations, salt }, b.passcode);
        const verifier = Buffer.from(b.verifier, "base64");
        assert.equal(verifier.length, 97);
        assert.equal(verifier.subarray(0, 32).toString("hex"), w0.toString(16).padStart(64, "0"), `w0 of ${b.qr}`);
        assert.equal(verifier.subarray(32).toString("hex"), Buffer.from(L).toString("hex"), `L of ${b.qr}`);
    }
});

test("the station parses the codes matter.js makes", { skip }, () => {
    for (let i = 0; i < 6; i++) {
        const data = {
            version: 0,
            vendorId: 0xfff1 + (i % 4),
            productId: 0x8000 + i * 517,
            flowType: i % 3,
            discoveryCapabilities: { ble: i % 2 === 0, onIpNetwork: i % 2 === 1 },
            discriminator: (i * 811) % 4096,
            passcode: 1000000 + i * 9876543,
        };
        const qr = types.QrPairingCodeCodec.encode([data]);
        const got = station(["onboarding", "--json", qr]);
        assert.equal(got.kind, "qr");
        assert.equal(got.vid, data.vendorId, qr);
        assert.equal(got.pid, data.productId, qr);
        assert.equal(got.discriminator, data.discriminator, qr);
        assert.equal(got.passcode, data.passcode, qr);

        const manual = types.ManualPairingCodeCodec.encode({
            discriminator: data.discriminator, passcode: data.passcode,
            ...(i % 2 === 0 ? { vendorId: data.vendorId, productId: data.productId } : {}),
        });
        const m = station(["onboarding", "--json", manual]);
        assert.equal(m.passcode, data.passcode, manual);
        assert.equal(m.short_discriminator, data.discriminator >> 8, manual);
        if (i % 2 === 0) {
            assert.equal(m.vid, data.vendorId, manual);
            assert.equal(m.pid, data.productId, manual);
        }
    }
});

// ---- the commissioner's attestation check -------------------------------

const sim = process.env.DS_SIM;
const dump = process.env.DS_ATTESTATION_DUMP;
const skipBoards = skip || (sim === undefined || dump === undefined ? "DS_SIM and DS_ATTESTATION_DUMP are not set" : false);
// The Matter SDK's Chip-Test-CD-Signing-Cert (credentials/test/
// certification-declaration/): the CSA's test CD signer, public.
const cdSignerPem = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "Chip-Test-CD-Signing-Cert.pem"));

const OID_VID = "1.3.6.1.4.1.37244.2.1";
const OID_PID = "1.3.6.1.4.1.37244.2.2";

function subjectId(cert, oid) {
    const m = cert.subject.match(new RegExp(`^${oid.replaceAll(".", "\\.")}=([0-9A-F]{4})$`, "m"));
    return m ? parseInt(m[1], 16) : undefined;
}

// The Certification Declaration's payload (Matter core 6.3.1) in matter.js TLV.
function cdPayloadSchema() {
    const { TlvObject, TlvField, TlvOptionalField, TlvUInt8, TlvUInt16, TlvUInt32, TlvArray, TlvString,
            TlvByteString } = types;
    return TlvObject({
        formatVersion: TlvField(0, TlvUInt16),
        vendorId: TlvField(1, TlvUInt16),
        productIds: TlvField(2, TlvArray(TlvUInt16)),
        deviceTypeId: TlvField(3, TlvUInt32),
        certificateId: TlvField(4, TlvString),
        securityLevel: TlvField(5, TlvUInt8),
        securityInformation: TlvField(6, TlvUInt16),
        versionNumber: TlvField(7, TlvUInt16),
        certificationType: TlvField(8, TlvUInt8),
        dacOriginVendorId: TlvOptionalField(9, TlvUInt16),
        dacOriginProductId: TlvOptionalField(10, TlvUInt16),
        authorizedPaaList: TlvOptionalField(11, TlvArray(TlvByteString)),
    });
}

// ContentInfo { signedData, [0] SignedData { version, digestAlgorithms,
// encapContentInfo { pkcs7-data, [0] OCTET STRING eContent }, signerInfos
// { SignerInfo { version, [0] subjectKeyIdentifier, digestAlgorithm,
// signatureAlgorithm, signature } } } }
function openCms(der) {
    const top = general.DerCodec.decode(der);
    const signedData = top._elements[1]._elements[0];
    const [, , encap, signerInfos] = signedData._elements;
    const signerInfo = signerInfos._elements[0];
    return {
        eContent: Buffer.from(encap._elements[1]._elements[0]._bytes),
        kid: Buffer.from(signerInfo._elements[1]._bytes),
        signature: Buffer.from(signerInfo._elements[4]._bytes),
    };
}

// What a commissioner checks of an attestation response (Matter core
// 6.2.3.1), throwing at the first failure.
async function commissionerCheck(crypto, response, nonce, challenge, paa, cdSigner) {
    const elements = Buffer.from(response.elements, "hex");
    const dac = new X509Certificate(Buffer.from(response.dac, "hex"));
    const pai = new X509Certificate(Buffer.from(response.pai, "hex"));
    const now = Date.now();

    // The signature over elements || challenge, with the DAC's key.
    await crypto.verifyEcdsa(dac.publicKey.export({ format: "jwk" }), Buffer.concat([elements, challenge]),
                             Buffer.from(response.signature, "hex"));
    // The elements carry the nonce sent.
    const el = protocol.TlvAttestation.decode(elements);
    assert.deepEqual(Buffer.from(el.attestationNonce), nonce, "attestation nonce");

    // DAC -> PAI -> PAA, each within its validity.
    assert.ok(dac.checkIssued(pai) && dac.verify(pai.publicKey), "the DAC is not signed by the PAI");
    assert.ok(pai.checkIssued(paa) && pai.verify(paa.publicKey), "the PAI is not signed by the PAA");
    assert.ok(paa.checkIssued(paa) && paa.verify(paa.publicKey), "the PAA is not self-signed");
    for (const c of [dac, pai, paa]) {
        assert.ok(Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo), `${c.subject} is not valid now`);
    }
    const vid = subjectId(dac, OID_VID), pid = subjectId(dac, OID_PID);
    assert.ok(vid !== undefined && pid !== undefined, "the DAC has no VID or PID");
    assert.equal(subjectId(pai, OID_VID), vid, "PAI and DAC vendor IDs differ");
    if (subjectId(pai, OID_PID) !== undefined) assert.equal(subjectId(pai, OID_PID), pid);

    // The CD: signed by the CD signer, for this vendor and product.
    const cms = openCms(Buffer.from(el.declaration));
    assert.ok(cdSigner.raw.includes(Buffer.concat([Buffer.from("0414", "hex"), cms.kid])), "unknown CD signer");
    await crypto.verifyEcdsa(cdSigner.publicKey.export({ format: "jwk" }), cms.eContent, cms.signature, "der");
    const cd = cdPayloadSchema().decode(cms.eContent);
    assert.equal(cd.formatVersion, 1);
    if (cd.dacOriginVendorId !== undefined) {
        assert.equal(cd.dacOriginVendorId, vid, "dac_origin_vendor_id");
        assert.equal(cd.dacOriginProductId, pid, "dac_origin_product_id");
    } else {
        assert.equal(cd.vendorId, vid, "the CD's vendor ID is not the DAC's");
        assert.ok(cd.productIds.includes(pid), "the CD does not list the DAC's product ID");
    }
    if (cd.authorizedPaaList !== undefined) {
        const skid = Buffer.from(paa.raw.subarray(paa.raw.indexOf(Buffer.from("0603551d0e0416", "hex")) + 9).subarray(0, 20));
        assert.ok(cd.authorizedPaaList.some(k => Buffer.from(k).equals(skid)), "the PAA is not authorized");
    }
    return cd;
}

function startSim(stateDir, announceDir, args) {
    const child = spawn(sim, ["--state-dir", stateDir, "--announce-dir", announceDir, ...args],
                        { stdio: ["ignore", "pipe", "inherit"] });
    return new Promise((resolve, reject) => {
        let out = "";
        child.stdout.on("data", chunk => {
            out += chunk;
            if (out.includes("ready\n")) resolve(child);
        });
        child.on("exit", code => reject(new Error(`dac-station-sim exited with ${code}`)));
    });
}

test("matter.js-based commissioner check accepts provisioned boards and rejects a tampered answer",
     { skip: skipBoards }, async () => {
    const crypto = new nodejs.NodeJsCrypto();
    const tmp = mkdtempSync(join(tmpdir(), "ds-matterjs-attest-"));
    const announce = join(tmp, "announce"), data = join(tmp, "data");
    const child = await startSim(join(tmp, "boards"), announce, ["--boards", "3", "--fault", "2:tamper-attestation"]);
    try {
        const env = { ...process.env, DAC_STATION_SIM_DIR: announce };
        const run = spawnSync(cli, ["provision", "--all", "--json", "--data-dir", data], { env, encoding: "utf8" });
        const events = run.stdout.trim().split("\n").map(l => JSON.parse(l));
        const outcome = name => events.find(e => (e.event === "pass" || e.event === "fail") && e.board === name);
        assert.equal(outcome("sim-0").event, "pass");
        assert.equal(outcome("sim-1").event, "pass");
        // The station refuses the tampered answer itself.
        assert.equal(outcome("sim-2").event, "fail");
        assert.equal(outcome("sim-2").step, "attest");

        const paa = new X509Certificate(readFileSync(join(data, "pki", "paa.pem")));
        const cdSigner = new X509Certificate(cdSignerPem);
        const ask = (name, nonce, challenge) => {
            const port = JSON.parse(readFileSync(join(announce, `${name}.json`), "utf8")).port;
            return JSON.parse(execFileSync(dump, [port, nonce.toString("hex"), challenge.toString("hex")],
                                           { encoding: "utf8" }));
        };

        for (const name of ["sim-0", "sim-1"]) {
            const nonce = randomBytes(32), challenge = randomBytes(16);
            const response = ask(name, nonce, challenge);
            const cd = await commissionerCheck(crypto, response, nonce, challenge, paa, cdSigner);
            // The built-in test CD: development and test, for the product.
            assert.equal(cd.certificationType, 0);
            assert.equal(cd.vendorId, 0xfff1);
            assert.deepEqual(cd.productIds, [0x8000]);

            // Tampered here, each part in turn, the check refuses.
            const flip = hex => { const b = Buffer.from(hex, "hex"); b[b.length - 5] ^= 1; return b.toString("hex"); };
            await assert.rejects(commissionerCheck(crypto, { ...response, elements: flip(response.elements) },
                                                   nonce, challenge, paa, cdSigner));
            await assert.rejects(commissionerCheck(crypto, { ...response, signature: flip(response.signature) },
                                                   nonce, challenge, paa, cdSigner));
            await assert.rejects(commissionerCheck(crypto, response, nonce, randomBytes(16), paa, cdSigner));
            await assert.rejects(commissionerCheck(crypto, response, randomBytes(32), challenge, paa, cdSigner));
        }
        // The board that tampers with its answer.
        {
            const nonce = randomBytes(32), challenge = randomBytes(16);
            const response = ask("sim-2", nonce, challenge);
            await assert.rejects(commissionerCheck(crypto, response, nonce, challenge, paa, cdSigner),
                                 /Signature verification failed/);
        }
    } finally {
        // The simulator removes its announcements as it goes: gone first.
        const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, "exit");
        child.kill();
        await exited;
        rmSync(tmp, { recursive: true, force: true });
    }
});

test("the SDK's test CD signer verifies matter.js's own test CDs", { skip }, async () => {
    // matter.js signs test CDs with its copy of the Matter test CD-signing
    // key; the certificate the check above trusts is that key's.
    const crypto = new nodejs.NodeJsCrypto();
    const cdSigner = new X509Certificate(cdSignerPem);
    const der = await protocol.CertificationDeclaration.generate(crypto, 0xfff1, 0x8000);
    const cms = openCms(Buffer.from(der));
    assert.ok(cdSigner.raw.includes(Buffer.concat([Buffer.from("0414", "hex"), cms.kid])));
    await crypto.verifyEcdsa(cdSigner.publicKey.export({ format: "jwk" }), cms.eContent, cms.signature, "der");
});
