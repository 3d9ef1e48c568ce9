#!/usr/bin/env python3
"""An independent reader of factory data in ST's X-CUBE-MATTER layout, for
the tests: standard library only, written from ST's layout (not from the
station's code). Prints every record as JSON and exits 1 on any breach:

  read-factory-data.py BLOB [--region-size N]

Checks: 32-bit little-endian tag and length, values of 1..602 bytes (ST's
reader), tags ascending and unique, the 0xACACACAC terminator, only 0xFF
after it, the size limit; each known tag's encoding; and, when the passcode
(tag 15) is there, the SPAKE2+ verifier recomputed from it with PBKDF2 and
P-256 arithmetic done here.
"""
import argparse
import datetime
import hashlib
import json
import struct
import sys

TERMINATOR = 0xACACACAC
VALUE_MAX = 602
NAMES = {
    1: "CERTIFICATION_DECLARATION", 2: "FIRMWARE_INFORMATION",
    3: "DEVICE_ATTESTATION_CERTIFICATE", 4: "PAI_CERTIFICATE",
    5: "DEVICE_ATTESTATION_PRIV_KEY", 6: "DEVICE_ATTESTATION_PUB_KEY",
    11: "SETUP_DISCRIMINATOR", 12: "SPAKE2_ITERATION_COUNT", 13: "SPAKE2_SALT",
    14: "SPAKE2_VERIFIER", 15: "SPAKE2_SETUP_PASSCODE",
    21: "VENDOR_NAME", 22: "VENDOR_ID", 23: "PRODUCT_NAME", 24: "PRODUCT_ID",
    25: "SERIAL_NUMBER", 26: "MANUFACTURING_DATE", 27: "HARDWARE_VERSION",
    28: "HARDWARE_VERSION_STRING", 29: "ROTATING_DEVICE_ID", 41: "TAG_ID_ENABLE_KEY",
}
U16 = {11, 22, 24, 27}
U32 = {12, 15}
STRINGS = {21: 32, 23: 32, 25: 32, 26: 10, 28: 64}

# P-256 (SEC 2 / FIPS 186-4)
P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff
A = P - 3
N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
G = (0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
     0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)


def ec_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    if p1[0] == p2[0] and (p1[1] + p2[1]) % P == 0:
        return None
    if p1 == p2:
        lam = (3 * p1[0] * p1[0] + A) * pow(2 * p1[1], -1, P) % P
    else:
        lam = (p2[1] - p1[1]) * pow(p2[0] - p1[0], -1, P) % P
    x = (lam * lam - p1[0] - p2[0]) % P
    return (x, (lam * (p1[0] - x) - p1[1]) % P)


def ec_mul(k, point):
    result = None
    while k:
        if k & 1:
            result = ec_add(result, point)
        point = ec_add(point, point)
        k >>= 1
    return result


def verifier(passcode, salt, iterations):
    ws = hashlib.pbkdf2_hmac("sha256", struct.pack("<I", passcode), salt, iterations, 80)
    w0 = int.from_bytes(ws[:40], "big") % N
    w1 = int.from_bytes(ws[40:], "big") % N
    x, y = ec_mul(w1, G)
    return w0.to_bytes(32, "big") + b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")


class Breach(Exception):
    pass


def der_length_ok(v):
    """One DER SEQUENCE spanning the whole value."""
    if len(v) < 2 or v[0] != 0x30:
        return False
    if v[1] < 0x80:
        return 2 + v[1] == len(v)
    n = v[1] & 0x7F
    if n == 0 or n > 2 or len(v) < 2 + n:
        return False
    return 2 + n + int.from_bytes(v[2:2 + n], "big") == len(v)


def check_value(tag, v):
    name = NAMES.get(tag)
    if name is None:
        raise Breach(f"unknown tag {tag}")
    if tag in U16 and len(v) != 2:
        raise Breach(f"{name}: {len(v)} bytes, not 2")
    if tag in U32 and len(v) != 4:
        raise Breach(f"{name}: {len(v)} bytes, not 4")
    if tag in (1, 3, 4) and not der_length_ok(v):
        raise Breach(f"{name}: not one DER structure")
    if tag == 5 and len(v) != 32:
        raise Breach(f"{name}: {len(v)} bytes")
    if tag == 6 and (len(v) != 65 or v[0] != 4):
        raise Breach(f"{name}: not an uncompressed point")
    if tag == 11 and struct.unpack("<H", v)[0] > 4095:
        raise Breach(f"{name}: over 12 bits")
    if tag == 12 and not 1000 <= struct.unpack("<I", v)[0] <= 100000:
        raise Breach(f"{name}: out of range")
    if tag == 13 and not 16 <= len(v) <= 32:
        raise Breach(f"{name}: {len(v)} bytes")
    if tag == 14 and len(v) != 97:
        raise Breach(f"{name}: {len(v)} bytes")
    if tag == 15:
        pc = struct.unpack("<I", v)[0]
        if not 1 <= pc <= 99999998 or pc in (11111111 * d for d in range(10)) or pc in (12345678, 87654321):
            raise Breach(f"{name}: not a valid passcode")
    if tag == 29 and not 16 <= len(v) <= 32:
        raise Breach(f"{name}: {len(v)} bytes")
    if tag in STRINGS:
        s = v.decode("utf-8")  # raises on bad UTF-8
        if "\0" in s or len(s) > STRINGS[tag]:
            raise Breach(f"{name}: bad string {s!r}")
        if tag == 26:
            if len(s) != 10 or s[4] != "-" or s[7] != "-":
                raise Breach(f"{name}: {s!r} is not YYYY-MM-DD")
            datetime.date.fromisoformat(s)
        return s
    if tag in U16:
        return struct.unpack("<H", v)[0]
    if tag in U32:
        return struct.unpack("<I", v)[0]
    return v.hex()


def read(blob, region_size):
    if region_size is not None and len(blob) > region_size:
        raise Breach(f"{len(blob)} bytes, more than the region's {region_size}")
    records = {}
    order = []
    off = 0
    while True:
        if off + 4 > len(blob):
            raise Breach("no terminator")
        (tag,) = struct.unpack_from("<I", blob, off)
        if tag == TERMINATOR:
            off += 4
            break
        if off + 8 > len(blob):
            raise Breach("truncated header")
        (length,) = struct.unpack_from("<I", blob, off + 4)
        if not 1 <= length <= VALUE_MAX:
            raise Breach(f"tag {tag}: length {length}")
        if off + 8 + length > len(blob):
            raise Breach(f"tag {tag}: value past the end")
        if order and tag <= order[-1]:
            raise Breach(f"tag {tag}: not ascending")
        value = blob[off + 8:off + 8 + length]
        records[tag] = value
        order.append(tag)
        off += 8 + length
    if any(b != 0xFF for b in blob[off:]):
        raise Breach("bytes after the terminator")
    if 15 in records and 14 in records:
        want = verifier(struct.unpack("<I", records[15])[0], records[13], struct.unpack("<I", records[12])[0])
        if want != records[14]:
            raise Breach("SPAKE2_VERIFIER does not match the passcode, salt and iterations")
    return {str(t): {"name": NAMES.get(t), "value": check_value(t, records[t]), "length": len(records[t])}
            for t in order}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("blob")
    ap.add_argument("--region-size", type=int)
    args = ap.parse_args()
    with open(args.blob, "rb") as f:
        blob = f.read()
    try:
        out = read(blob, args.region_size)
    except (Breach, UnicodeDecodeError, ValueError) as e:
        print(f"factory data: {e}", file=sys.stderr)
        return 1
    print(json.dumps(out, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
