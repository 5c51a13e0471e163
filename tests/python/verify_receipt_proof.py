"""Check a Vellum receipt proof from docs/proofs.md alone, with PyPI's `pycryptodome` (Keccak-256
and Ed25519): an implementation independent of the node's.

usage: verify_receipt_proof.py <genesis.json> <bundle file>
prints (proof holds, exit 0): {"height", "position", "transaction", "status", "topics",
                               "certified_height", "signers"} as JSON
prints (it does not, exit 1): the reason
"""

import json
import sys

from Crypto.Hash import keccak
from Crypto.Signature import eddsa


class Invalid(Exception):
    pass


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


class Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.at = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.at + n > len(self.data):
            raise Invalid("runs past the end")
        out = self.data[self.at : self.at + n]
        self.at += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u32le(self) -> int:
        return int.from_bytes(self.take(4), "little")

    def u64le(self) -> int:
        return int.from_bytes(self.take(8), "little")

    def u64be(self) -> int:
        return int.from_bytes(self.take(8), "big")

    def varint(self) -> int:
        value, shift = 0, 0
        while True:
            byte = self.u8()
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                if byte == 0 and shift > 7:
                    raise Invalid("varint not in its shortest form")
                if value >= 1 << 64:
                    raise Invalid("varint overflows 64 bits")
                return value
            if shift >= 70:
                raise Invalid("varint too long")

    def vec(self) -> bytes:
        return self.take(self.u32le())

    def string(self) -> str:
        return self.vec().decode("utf-8")

    def done(self):
        if self.at != len(self.data):
            raise Invalid("trailing bytes")


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def header(r: Reader) -> dict:
    start = r.at
    h = {
        "height": r.u64le(),
        "parent": r.take(32),
        "time_ms": r.u64le(),
        "proposer": r.take(32),
        "transactions_root": r.take(32),
        "receipts_root": r.take(32),
        "state_root": r.take(32),
        "fuel_used": r.u64le(),
        "schedule_version": r.u32le(),
    }
    h["hash"] = keccak256(r.data[start : r.at])
    return h


STATUSES = ["success", "contract_error", "trap", "out_of_fuel", "refused"]


def receipt(r: Reader) -> dict:
    start = r.at
    transaction = r.take(32)
    tag = r.u8()
    if tag >= len(STATUSES):
        raise Invalid("unknown status")
    if tag == 1:
        r.u32le()
        r.string()
    elif tag in (2, 4):
        r.string()
    r.vec()  # output
    r.u64le()  # fuel used
    topics = []
    for _ in range(r.u32le()):
        r.take(32)
        topics.append(r.vec().decode("utf-8", "replace"))
        r.vec()
    flag = r.u8()
    if flag == 1:
        r.take(32)
    elif flag != 0:
        raise Invalid("bad option tag")
    return {
        "transaction": transaction,
        "status": STATUSES[tag],
        "topics": topics,
        "hash": keccak256(r.data[start : r.at]),
    }


def finality(genesis: dict, r: Reader):
    """The finality part of a bundle (headers and seal), read from `r` to its end and checked
    against genesis: the headers' hashes chain, and the seal's certificate is a quorum of the
    genesis validators' signatures over the last. Returns (headers, signer count)."""
    # Validators: keys sorted by their bytes; signer i is the i-th.
    keys = sorted(bytes.fromhex(v["public_key"][2:]) for v in genesis["validators"])
    n = len(keys)
    quorum = n - (n - 1) // 3

    count = r.u32le()
    if not 1 <= count <= 1024:
        raise Invalid("1 to 1024 headers")
    headers = [header(r) for _ in range(count)]
    seal = r.vec()
    r.done()

    for a, b in zip(headers, headers[1:]):
        if b["parent"] != a["hash"] or b["height"] != a["height"] + 1:
            raise Invalid("broken header chain")

    s = Reader(seal)
    epoch, view = s.varint(), s.varint()
    s.take(32)  # leader
    s.varint()  # parent view
    s.take(32)  # parent digest
    context = seal[: s.at]
    if s.u8() != 1:
        raise Invalid("no certificate")
    f_epoch, f_view, f_parent_view = s.varint(), s.varint(), s.varint()
    payload = s.take(32)
    bits = s.u64be()
    bitmap = s.take((bits + 7) // 8)
    if bits % 8 and bitmap[-1] >> (bits % 8):
        raise Invalid("bitmap trailing bits")
    signers = [i for i in range(bits) if (bitmap[i // 8] >> (i % 8)) & 1]
    signatures = [s.take(64) for _ in range(s.varint())]
    s.done()

    if (f_epoch, f_view) != (epoch, view):
        raise Invalid("certificate for another round")
    if keccak256(context + headers[-1]["hash"]) != payload:
        raise Invalid("certificate for another block")
    if bits != n or len(signers) != len(signatures) or len(signers) < quorum:
        raise Invalid("not a quorum")
    namespace = ("vellum/" + genesis["chain_id"] + "_FINALIZE").encode("utf-8")
    message = varint(f_epoch) + varint(f_view) + varint(f_parent_view) + payload
    signed = varint(len(namespace)) + namespace + message
    for signer, signature in zip(signers, signatures):
        try:
            key = eddsa.import_public_key(keys[signer])
            eddsa.new(key, "rfc8032").verify(signed, signature)
        except ValueError:
            raise Invalid("a signature does not verify")

    return headers, len(signers)


def check(genesis: dict, bundle: bytes) -> dict:
    r = Reader(bundle)
    rec = receipt(r)
    position = r.u32le()
    leaf_count = r.u32le()
    siblings = [r.take(32) for _ in range(r.u32le())]
    headers, signers = finality(genesis, r)

    # The receipt's Merkle path to the first header's receipts_root.
    if position >= leaf_count:
        raise Invalid("position out of range")
    node = keccak256(position.to_bytes(4, "big") + rec["hash"])
    size, p, path = leaf_count, position, iter(siblings)
    try:
        while size > 1:
            if p % 2 == 0 and p + 1 == size:
                node = keccak256(node + node)
            elif p % 2 == 0:
                node = keccak256(node + next(path))
            else:
                node = keccak256(next(path) + node)
            p //= 2
            size = (size + 1) // 2
    except StopIteration:
        raise Invalid("too few siblings")
    if next(path, None) is not None:
        raise Invalid("unused siblings")
    if keccak256(leaf_count.to_bytes(4, "big") + node) != headers[0]["receipts_root"]:
        raise Invalid("the receipt is not in the block")

    return {
        "height": headers[0]["height"],
        "position": position,
        "transaction": "0x" + rec["transaction"].hex(),
        "status": rec["status"],
        "topics": rec["topics"],
        "certified_height": headers[-1]["height"],
        "signers": signers,
    }


def main():
    with open(sys.argv[1]) as f:
        genesis = json.load(f)
    with open(sys.argv[2], "rb") as f:
        bundle = f.read()
    try:
        print(json.dumps(check(genesis, bundle)))
    except (Invalid, UnicodeDecodeError) as e:
        print(e)
        sys.exit(1)


if __name__ == "__main__":
    main()
