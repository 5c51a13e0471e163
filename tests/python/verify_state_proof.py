"""Check a Vellum state proof from docs/proofs.md alone, with PyPI's `pycryptodome` (Keccak-256
and Ed25519) and the standard library's SHA-256: an implementation independent of the node's and
of commonware-storage's.

usage: verify_state_proof.py <genesis.json> <bundle file>
prints (proof holds, exit 0): one line of JSON: {"verdict": "present" or "absent", "namespace",
                               "key", "value" (hex, or null), "height", "certified_height",
                               "state_root"}
prints (it does not, exit 1): the reason

The finality part (steps 1 to 5 of "Checking a receipt proof") is checked by
verify_receipt_proof.py's own code, imported; this file adds the bundle's layout and QMDB's
proof ("The state proof bundle" and "Checking a state proof").
"""

import hashlib
import json
import sys

import verify_receipt_proof as receipt_proof
from verify_receipt_proof import Invalid, Reader, header, keccak256

CHUNK_BYTES = 32  # bitmap bytes per chunk
CHUNK_BITS = 8 * CHUNK_BYTES  # operations per chunk
GRAFTING_HEIGHT = 8  # log2(CHUNK_BITS): the height of the tree nodes chunks are grafted onto
PROOF_DIGESTS_MAX = 256
MAX_LOCATION = 1 << 62  # the largest location (an MMR's leaf count) commonware accepts
UPDATE, COMMIT = 0xD2, 0xD3  # operation tags
OPERATION_BYTES = 97  # every operation is padded to the size of the largest, an update
DOMAIN = bytes([0, 1])  # MMR family tag 0, backward-fold bagging tag 1


def sha256(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def u64be(n: int) -> bytes:
    return n.to_bytes(8, "big")


def u32le(n: int) -> bytes:
    return n.to_bytes(4, "little")


# --- Decoding (commonware's codec) ---


def location(r: Reader) -> int:
    loc = r.varint()
    if loc > MAX_LOCATION:
        raise Invalid("a location exceeds 2^62")
    return loc


def digest_option(r: Reader):
    tag = r.u8()
    if tag == 0:
        return None
    if tag == 1:
        return r.take(32)
    raise Invalid("an option's tag is neither 0 nor 1")


def operation_proof(r: Reader) -> dict:
    p = {"loc": location(r), "chunk": r.take(CHUNK_BYTES)}
    p["leaves"] = location(r)
    p["inactive_peaks"] = r.varint()
    count = r.varint()
    if count >= 1 << 32:
        raise Invalid("a length exceeds 32 bits")
    if count > PROOF_DIGESTS_MAX:
        raise Invalid("more than 256 digests")
    p["digests"] = [r.take(32) for _ in range(count)]
    # (An MMR has no pending chunk: that slot encodes to nothing.)
    p["partial"] = digest_option(r)
    p["ops_root"] = r.take(32)
    return p


def value_proof(data: bytes) -> dict:
    r = Reader(data)
    try:
        proof = {"op": operation_proof(r), "next_key": r.take(32)}
        r.done()
    except Invalid as e:
        raise Invalid(f"state proof: the value proof does not decode: {e}")
    return proof


def absence_proof(data: bytes) -> dict:
    r = Reader(data)
    try:
        tag = r.u8()
        if tag == 0:
            proof = {"span": True, "op": operation_proof(r)}
            proof["key"], proof["value"], proof["next_key"] = r.take(32), r.take(32), r.take(32)
        elif tag == 1:
            proof = {"span": False, "op": operation_proof(r), "metadata": digest_option(r)}
        else:
            raise Invalid("unknown tag")
        r.done()
    except Invalid as e:
        raise Invalid(f"state proof: the absence proof does not decode: {e}")
    return proof


# --- Operations as the log holds them ---


def update_operation(key: bytes, value: bytes, next_key: bytes) -> bytes:
    return bytes([UPDATE]) + key + value + next_key


def commit_operation(metadata, floor: int) -> bytes:
    meta = b"\x01" + metadata if metadata is not None else bytes(33)
    op = bytes([COMMIT]) + meta + u64be(floor)
    return op + bytes(OPERATION_BYTES - len(op))


# --- The MMR ---


def mmr_position(loc: int) -> int:
    """The position of leaf `loc` (the node count before it, in post-order)."""
    return 2 * loc - bin(loc).count("1")


def peaks(leaves: int):
    """(position, height, first leaf) of each peak, tallest (oldest) first."""
    out, start = [], 0
    for height in range(62, -1, -1):
        if leaves >> height & 1:
            out.append((mmr_position(start) + (1 << (height + 1)) - 2, height, start))
            start += 1 << height
    return out


def rebuild_peak(peak, loc: int, element: bytes, chunk: bytes, siblings) -> bytes:
    """The digest of `peak`, which holds leaf `loc`, from the leaf's element and the path's
    siblings, taken in left-first depth-first order: every node wholly outside the leaf takes the
    next sibling."""

    def node(pos: int, height: int, start: int) -> bytes:
        if start + (1 << height) <= loc or start > loc:
            sibling = next(siblings, None)
            if sibling is None:
                raise Invalid("state proof: too few digests")
            return sibling
        if height == 0:
            return sha256(u64be(pos), element)
        half = 1 << (height - 1)
        left = node(pos - 2 * half, height - 1, start)
        right = node(pos - 1, height - 1, start + half)
        digest = sha256(u64be(pos), left, right)
        if height == GRAFTING_HEIGHT and any(chunk):
            # The node covers exactly one (complete) chunk, the one holding loc's bit: the chunk
            # is grafted on, unless it is all zeros.
            digest = sha256(chunk, digest)
        return digest

    return node(*peak)


def bag(leaves: int, inactive: int, fold_count: int, peak_digests) -> bytes:
    """The root over the peak list as the proof gives it (a folded prefix counting as one)."""
    to_fold = inactive if fold_count == 0 else inactive - fold_count + 1
    if to_fold > len(peak_digests):
        raise Invalid("state proof: more inactive peaks than peaks")
    acc = peak_digests[0]
    for peak in peak_digests[1:to_fold]:
        acc = sha256(acc, peak)
    rest = peak_digests[max(to_fold, 1) :]
    if rest:
        bagged = rest[-1]
        for peak in reversed(rest[:-1]):
            bagged = sha256(peak, bagged)
        acc = sha256(acc, bagged)
    committed = u64be(inactive) if inactive else b""
    return sha256(DOMAIN, u64be(leaves), committed, acc)


def grafted_root(p: dict, element: bytes) -> bytes:
    """The root of the operations MMR with the bitmap's chunks grafted on, from the proof of one
    operation (its encoded `element`)."""
    loc, leaves, inactive = p["loc"], p["leaves"], p["inactive_peaks"]
    all_peaks = peaks(leaves)
    before = [pk for pk in all_peaks if pk[2] + (1 << pk[1]) <= loc]
    after = [pk for pk in all_peaks if pk[2] > loc]
    (ours,) = [pk for pk in all_peaks if pk[2] <= loc < pk[2] + (1 << pk[1])]
    if inactive > len(all_peaks):
        raise Invalid("state proof: more inactive peaks than peaks")
    # Backward bagging: the inactive peaks before the operation's peak come folded into one
    # digest, the active ones before it and the inactive ones after it one digest each, and the
    # active ones after it folded into one digest.
    fold_count = min(inactive, len(before))
    listed_after = min(max(inactive - len(before) - 1, 0), len(after))
    has_suffix = len(after) > listed_after
    required = (
        (fold_count > 0)
        + (len(before) - fold_count)
        + listed_after
        + has_suffix
        + ours[1]  # one sibling per level of the operation's peak
    )
    digests = p["digests"]
    if len(digests) != required:
        raise Invalid(f"state proof: {len(digests)} digests where {required} are needed")
    at = 0
    listed = []
    if fold_count:
        listed.append(digests[0])
        at = 1
    n = len(before) - fold_count
    listed += digests[at : at + n]
    at += n
    after_listed = digests[at : at + listed_after]
    at += listed_after
    suffix = [digests[at]] if has_suffix else []
    at += has_suffix
    siblings = iter(digests[at:])
    peak = rebuild_peak(ours, loc, element, p["chunk"], siblings)
    return bag(leaves, inactive, fold_count, listed + [peak] + after_listed + suffix)


def verify_operation(p: dict, element: bytes, root: bytes):
    """That the operation `element` is active at its location under `root`."""
    loc, leaves, chunk = p["loc"], p["leaves"], p["chunk"]
    bit = loc % CHUNK_BITS
    if not chunk[bit // 8] >> (bit % 8) & 1:
        raise Invalid("state proof: the operation is not active (its bit is 0)")
    if loc >= leaves:
        raise Invalid("state proof: the location is past the log's end")
    complete, next_bit = divmod(leaves, CHUNK_BITS)
    if next_bit:
        if p["partial"] is None:
            raise Invalid("state proof: no digest of the partial chunk")
        if loc // CHUNK_BITS == complete and sha256(chunk) != p["partial"]:
            raise Invalid("state proof: the chunk is not the partial chunk")
    elif p["partial"] is not None:
        raise Invalid("state proof: a partial chunk digest where there is no partial chunk")
    grafted = grafted_root(p, element)
    if next_bit:
        computed = sha256(p["ops_root"], grafted, u64be(next_bit), p["partial"])
    else:
        computed = sha256(p["ops_root"], grafted)
    if computed != root:
        raise Invalid("state proof: it does not lead to the block's state_root")


def verify_key(full_key: bytes, value, proof_bytes: bytes, root: bytes):
    """That `full_key` holds `value` (None: no value) under `root`."""
    key = keccak256(full_key)
    if value is not None:
        proof = value_proof(proof_bytes)
        element = update_operation(key, keccak256(value), proof["next_key"])
        verify_operation(proof["op"], element, root)
        return
    proof = absence_proof(proof_bytes)
    if proof["span"]:
        low, high = proof["key"], proof["next_key"]
        # key in the span low..high, wrapping past the largest key; never low itself.
        inside = low < key < high if low < high else (key > low or key < high)
        if key == low or not inside:
            raise Invalid("state proof: the key is not between the two adjacent keys")
        element = update_operation(low, proof["value"], high)
    else:
        # An empty store: its last commit's floor is the commit's own location.
        element = commit_operation(proof["metadata"], proof["op"]["loc"])
    verify_operation(proof["op"], element, root)


# --- The bundle ---


def check(genesis: dict, bundle: bytes) -> dict:
    r = Reader(bundle)
    try:
        namespace = r.take(32)
        key = r.vec()
        tag = r.u8()
        if tag == 0:
            value = None
        elif tag == 1:
            value = r.vec()
        else:
            raise Invalid("bad option tag")
        proof = r.vec()
    except Invalid as e:
        raise Invalid(f"the bundle does not decode: {e}")
    try:
        headers, _ = receipt_proof.finality(genesis, r)
    except Invalid as e:
        raise Invalid(f"finality: {e}")
    verify_key(namespace + key, value, proof, headers[0]["state_root"])
    return {
        "verdict": "present" if value is not None else "absent",
        "namespace": "0x" + namespace.hex(),
        "key": "0x" + key.hex(),
        "value": None if value is None else "0x" + value.hex(),
        "height": headers[0]["height"],
        "certified_height": headers[-1]["height"],
        "state_root": "0x" + headers[0]["state_root"].hex(),
    }


def main():
    if len(sys.argv) != 3:
        print("usage: verify_state_proof.py <genesis.json> <bundle file>")
        sys.exit(2)
    try:
        with open(sys.argv[1]) as f:
            genesis = json.load(f)
        with open(sys.argv[2], "rb") as f:
            bundle = f.read()
    except (OSError, ValueError) as e:
        print(e)
        sys.exit(1)
    try:
        print(json.dumps(check(genesis, bundle)))
    except (Invalid, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        print(e if str(e) else type(e).__name__)
        sys.exit(1)


if __name__ == "__main__":
    main()
