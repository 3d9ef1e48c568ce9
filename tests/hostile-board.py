#!/usr/bin/env python3
"""A board that lies, for the tests: the station's device protocol
(docs/protocol.md) on a pseudo-terminal, written from the document alone
with the Python standard library (P-256 ECDSA and the PKCS#10 DER by hand),
so that it shares no code with the station or with dac-station-sim.

It announces itself like a simulated board (a JSON file in --announce-dir),
prints "ready", and serves until killed.  --attack picks the lie:

  none            an honest board (make a key, CSR, accept INSTALL, ATTEST, ATTESTATION, LOCK)
  claim-locked    INFO says "locked"; READ finds whatever --dac/--pai/--key gave it
  uid-after-lock  once locked, INFO gives another UID
  escape-text     INSTALL answered REFUSED with terminal escape sequences in ERROR_TEXT

--uid sets its UID (a clone's), --key HEX its private key (a copied key),
--dac/--pai/--cd DER files it holds (a foreign or stolen DAC).
"""

import argparse
import hashlib
import json
import os
import secrets
import select
import signal
import struct
import sys
import tty
import zlib

# --- P-256 (FIPS 186-4 D.1.2.3) ----------------------------------------------

P = 2**256 - 2**224 + 2**192 + 2**96 - 1
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
A = P - 3
G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
     0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def point_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % P == 0:
        return None
    if p1 == p2:
        m = (3 * x1 * x1 + A) * pow(2 * y1, -1, P) % P
    else:
        m = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (m * m - x1 - x2) % P
    return (x3, (m * (x1 - x3) - y1) % P)


def point_mul(k, point):
    result = None
    while k:
        if k & 1:
            result = point_add(result, point)
        point = point_add(point, point)
        k >>= 1
    return result


def ecdsa_sign(d, message):
    """ECDSA with SHA-256; the signature as DER ECDSA-Sig-Value."""
    e = int.from_bytes(hashlib.sha256(message).digest(), "big")
    while True:
        k = secrets.randbelow(N - 1) + 1
        r = point_mul(k, G)[0] % N
        s = pow(k, -1, N) * (e + r * d) % N
        if r and s:
            return der(0x30, der_int(r) + der_int(s))


# --- DER ----------------------------------------------------------------------

def der(tag, body):
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


def der_int(v):
    raw = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big")
    return der(0x02, raw)


def der_oid(text):
    parts = [int(p) for p in text.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.insert(0, 0x80 | (p & 0x7F))
            p >>= 7
        body += bytes(chunk)
    return der(0x06, body)


def rdn(oid, text):
    return der(0x31, der(0x30, der_oid(oid) + der(0x0C, text.encode())))


def make_csr(d, cn, vid, pid):
    x, y = point_mul(d, G)
    spki = der(0x30, der(0x30, der_oid("1.2.840.10045.2.1") + der_oid("1.2.840.10045.3.1.7")) +
               der(0x03, b"\x00\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")))
    name = der(0x30, rdn("2.5.4.3", cn) + rdn("1.3.6.1.4.1.37244.2.1", "%04X" % vid) +
               rdn("1.3.6.1.4.1.37244.2.2", "%04X" % pid))
    info = der(0x30, der_int(0) + name + spki + b"\xa0\x00")
    sig = ecdsa_sign(d, info)
    return der(0x30, info + der(0x30, der_oid("1.2.840.10045.4.3.2")) + der(0x03, b"\x00" + sig))


# --- frames and TLV (docs/protocol.md) -----------------------------------------

def crc8(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def encode_frame(seq, command, status, payload):
    head = struct.pack("<BBHBBH", 1, 1, seq, command, status, len(payload))
    head += bytes([crc8(head)])
    body = head + payload
    return b"\xd5\xac" + body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def next_frame(buf):
    """(frame or None, bytes left) after scanning @buf for one good frame."""
    while True:
        start = buf.find(b"\xd5\xac")
        if start < 0:
            return None, buf[-1:] if buf.endswith(b"\xd5") else b""
        buf = buf[start:]
        if len(buf) < 11:
            return None, buf
        if crc8(buf[2:10]) != buf[10]:
            buf = buf[1:]
            continue
        version, flags, seq, command, status, length = struct.unpack("<BBHBBH", buf[2:10])
        if length > 4096:
            buf = buf[1:]
            continue
        if len(buf) < 15 + length:
            return None, buf
        (crc,) = struct.unpack("<I", buf[11 + length:15 + length])
        if zlib.crc32(buf[2:11 + length]) & 0xFFFFFFFF != crc:
            buf = buf[1:]
            continue
        return (version, seq, command, buf[11:11 + length]), buf[15 + length:]


def tlv(tag, value):
    return struct.pack("<BH", tag, len(value)) + value


def parse_tlv(payload):
    out, i = {}, 0
    while i < len(payload):
        if i + 3 > len(payload):
            return None
        tag, length = struct.unpack("<BH", payload[i:i + 3])
        if i + 3 + length > len(payload):
            return None
        out[tag] = payload[i + 3:i + 3 + length]
        i += 3 + length
    return out


# --- the board ----------------------------------------------------------------

EMPTY, KEY_PENDING, INSTALLED, LOCKED = range(4)
OK, BAD_PAYLOAD, WRONG_STATE, LOCKED_STATUS, NOT_FOUND, REFUSED = 0, 3, 4, 5, 8, 0x0B


class Board:
    def __init__(self, args):
        self.attack = args.attack
        self.uid = bytes.fromhex(args.uid)
        self.key = int(args.key, 16) if args.key else None
        self.dac = open(args.dac, "rb").read() if args.dac else None
        self.pai = open(args.pai, "rb").read() if args.pai else None
        self.cd = open(args.cd, "rb").read() if args.cd else None
        self.state = LOCKED if args.locked else (KEY_PENDING if self.key else EMPTY)
        self.last = None

    def refuse(self, status, text):
        return status, tlv(0x7F, text.encode())

    def handle(self, command, req):
        if command == 0x01:  # INFO (it claims protocol 2; of its new commands it knows ATTESTATION)
            uid = self.uid
            if self.attack == "uid-after-lock" and self.state == LOCKED:
                uid = uid[:-1] + bytes([uid[-1] ^ 0x5A])
            state = LOCKED if self.attack == "claim-locked" else self.state
            return OK, (tlv(0x01, uid) + tlv(0x02, b"6.6.6-hostile") + tlv(0x03, bytes([state])) +
                        tlv(0x04, b"\x02") + tlv(0x05, b"hostile board (Python)"))
        if command == 0x02:  # GENERATE_CSR
            if 0x10 not in req or 0x11 not in req or 0x12 not in req:
                return self.refuse(BAD_PAYLOAD, "GENERATE_CSR needs VID, PID and SUBJECT_CN")
            if self.state == LOCKED:
                return self.refuse(LOCKED_STATUS, "credentials are locked")
            if self.key is None:
                self.key = secrets.randbelow(N - 1) + 1
                self.state = KEY_PENDING
            (vid,) = struct.unpack("<H", req[0x10])
            (pid,) = struct.unpack("<H", req[0x11])
            return OK, tlv(0x20, make_csr(self.key, req[0x12].decode(), vid, pid))
        if command == 0x03:  # INSTALL
            if self.state == LOCKED:
                return self.refuse(LOCKED_STATUS, "credentials are locked")
            if self.attack == "escape-text":
                return self.refuse(REFUSED, "\x1b[2J\x1b[1;1H\x1b[32mPASS\x1b]0;owned\x07 all good\r\nPASS")
            if 0x21 not in req or 0x22 not in req:
                return self.refuse(BAD_PAYLOAD, "INSTALL needs DAC and PAI")
            self.dac, self.pai, self.cd = req[0x21], req[0x22], req.get(0x23)
            self.state = INSTALLED
            return OK, b""
        if command == 0x04:  # READ
            obj = req.get(0x24)
            held = {b"\x01": (0x21, self.dac), b"\x02": (0x22, self.pai), b"\x03": (0x23, self.cd)}.get(obj)
            if held is None:
                return self.refuse(BAD_PAYLOAD, "no such object")
            if held[1] is None:
                return self.refuse(NOT_FOUND, "object not installed")
            return OK, tlv(held[0], held[1])
        if command == 0x05:  # ATTEST
            nonce = req.get(0x30)
            if nonce is None or len(nonce) != 32:
                return self.refuse(BAD_PAYLOAD, "ATTEST needs a 32-byte NONCE")
            if self.key is None:
                return self.refuse(WRONG_STATE, "no key")
            return OK, tlv(0x31, ecdsa_sign(self.key, nonce))
        if command == 0x06:  # LOCK
            if self.state == LOCKED:
                return OK, b""
            if self.state != INSTALLED:
                return self.refuse(WRONG_STATE, "nothing installed to lock")
            self.state = LOCKED
            return OK, b""
        if command == 0x07:  # REBOOT
            return OK, b""
        if command == 0x0A:  # ATTESTATION (protocol 2): Matter core 6.2.3.1
            nonce, challenge = req.get(0x30), req.get(0x32)
            if nonce is None or len(nonce) != 32 or challenge is None or len(challenge) != 16:
                return self.refuse(BAD_PAYLOAD, "ATTESTATION needs a 32-byte NONCE and a 16-byte CHALLENGE")
            if self.key is None or self.dac is None:
                return self.refuse(WRONG_STATE, "nothing installed")
            if self.cd is None:
                return self.refuse(NOT_FOUND, "no Certification Declaration")
            # Matter TLV: an anonymous structure { 1: CD (octet string,
            # 2-byte length), 2: nonce (octet string, 1-byte length),
            # 3: timestamp (u32, 0: no clock) }.
            elements = (b"\x15" + b"\x31\x01" + struct.pack("<H", len(self.cd)) + self.cd +
                        b"\x30\x02\x20" + nonce + b"\x26\x03" + struct.pack("<I", 0) + b"\x18")
            return OK, tlv(0x33, elements) + tlv(0x31, ecdsa_sign(self.key, elements + challenge))
        if command == 0x08:  # FACTORY_DATA_WRITE: the board adds tags 5 and 6 (its key pair)
            blob = req.get(0x51)
            if blob is None or 0x50 not in req:
                return self.refuse(BAD_PAYLOAD, "FACTORY_DATA_WRITE needs FD_ADDRESS and FACTORY_DATA")
            if self.state != INSTALLED or self.key is None:
                return self.refuse(WRONG_STATE, "no DAC installed")
            x, y = point_mul(self.key, G)
            records, i = [], 0
            while i + 4 <= len(blob):
                (tag,) = struct.unpack("<I", blob[i:i + 4])
                if tag == 0xACACACAC:
                    break
                (n,) = struct.unpack("<I", blob[i + 4:i + 8])
                records.append((tag, blob[i + 8:i + 8 + n]))
                i += 8 + n
            records += [(5, self.key.to_bytes(32, "big")), (6, b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big"))]
            self.factory_data = b"".join(struct.pack("<II", t, len(v)) + v for t, v in sorted(records))
            self.factory_data += struct.pack("<I", 0xACACACAC)
            return OK, b""
        if command == 0x09:  # FACTORY_DATA_READ: everything but the private key
            if getattr(self, "factory_data", None) is None:
                return self.refuse(NOT_FOUND, "no factory data")
            out, i, fd = b"", 0, self.factory_data
            while True:
                (tag,) = struct.unpack("<I", fd[i:i + 4])
                if tag == 0xACACACAC:
                    out += fd[i:i + 4]
                    break
                (n,) = struct.unpack("<I", fd[i + 4:i + 8])
                if tag != 5:
                    out += fd[i:i + 8 + n]
                i += 8 + n
            return OK, tlv(0x51, out)
        return self.refuse(0x02, "unknown command")

    def answer(self, version, seq, command, payload):
        # A retransmitted request gets the answer it had, not a second run.
        if self.last is not None and self.last[0] == (seq, command):
            return self.last[1]
        req = parse_tlv(payload)
        if version != 1:
            status, out = self.refuse(0x0C, "protocol version 1 only")
        elif req is None:
            status, out = self.refuse(BAD_PAYLOAD, "malformed TLV payload")
        else:
            status, out = self.handle(command, req)
        frame = encode_frame(seq, command, status, out)
        self.last = ((seq, command), frame)
        return frame


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--announce-dir", required=True)
    parser.add_argument("--name", default="hostile-0")
    parser.add_argument("--attack", default="none",
                        choices=["none", "claim-locked", "uid-after-lock", "escape-text"])
    parser.add_argument("--uid", default=secrets.token_hex(12).upper())
    parser.add_argument("--key", help="private key, hex")
    parser.add_argument("--dac")
    parser.add_argument("--pai")
    parser.add_argument("--cd")
    parser.add_argument("--locked", action="store_true", help="start with locked credentials")
    args = parser.parse_args()
    board = Board(args)
    signal.signal(signal.SIGTERM, lambda *unused: sys.exit(0))

    master, slave = os.openpty()
    tty.setraw(slave)
    port = os.ttyname(slave)
    os.makedirs(args.announce_dir, exist_ok=True)
    path = os.path.join(args.announce_dir, args.name + ".json")
    with open(path + ".tmp", "w") as f:
        json.dump({"name": args.name, "port": port, "uid": args.uid.upper(),
                   "fw_version": "6.6.6-hostile", "pid": os.getpid()}, f)
    os.rename(path + ".tmp", path)
    print("ready", port, flush=True)

    buf = b""
    try:
        while True:
            select.select([master], [], [])
            try:
                buf += os.read(master, 4096)
            except OSError:
                continue
            while True:
                frame, buf = next_frame(buf)
                if frame is None:
                    break
                os.write(master, board.answer(*frame))
    finally:
        os.unlink(path)


if __name__ == "__main__":
    sys.exit(main())
