// matter.js as an independent peer for the station's onboarding data: it
// decodes every QR payload and manual code dac-station-cli makes, computes
// the SPAKE2+ w0 and L from the passcode, salt and iterations, and makes
// codes of its own for the station to parse.
//
//   DS_CLI=build/src/dac-station-cli DS_MATTERJS_DIR=build/peer-matterjs \
//     node --test --test-reporter=tap tests/peer-matterjs/check.mjs
//
// DS_MATTERJS_DIR holds node_modules with the @matter/main that
// package-lock.json pins (tools/run installs it there).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import test from "node:test";
import assert from "node:assert/strict";

const cli = process.env.DS_CLI;
const dir = process.env.DS_MATTERJS_DIR;
const have = dir !== undefined && existsSync(join(dir, "node_modules", "@matter", "main"));
const skip = have ? false : `matter.js is not installed in ${dir} (tools/run installs it)`;

let general, types, nodejs;
if (have) {
    const require = createRequire(join(dir, "package.json"));
    general = require("@matter/general");
    types = require("@matter/types");
    nodejs = require("@matter/nodejs");
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
