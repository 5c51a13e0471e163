"""Sign a Vellum transaction from docs/transactions.md alone, with PyPI's `ecdsa` (secp256k1,
RFC 6979) and `pycryptodome` (Keccak-256): an implementation independent of the node's.

usage: sign_transaction.py <secret key hex> <chain id> <nonce> <contract hex> <method> <args json>
prints: <signed transaction hex> <transaction hash hex>
"""

import sys

from Crypto.Hash import keccak
from ecdsa import SECP256k1, SigningKey
from ecdsa.util import sigencode_strings

N = SECP256k1.order


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def u32(n: int) -> bytes:
    return n.to_bytes(4, "little")


def u64(n: int) -> bytes:
    return n.to_bytes(8, "little")


def string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return u32(len(raw)) + raw


def main() -> None:
    secret, chain_id, nonce, contract, method, args = sys.argv[1:7]
    key = SigningKey.from_string(bytes.fromhex(secret.removeprefix("0x")), curve=SECP256k1)
    sender = key.get_verifying_key().to_string("compressed")
    assert len(sender) == 33
    # Action::Call is variant 1: contract [u8; 32], method String, args String.
    action = bytes([1]) + bytes.fromhex(contract.removeprefix("0x")) + string(method) + string(args)
    fuel_limit = 10_000_000
    transaction = string(chain_id) + sender + u64(int(nonce)) + u64(fuel_limit) + action
    message = keccak256(transaction)
    r, s = key.sign_digest_deterministic(message, sigencode=sigencode_strings, hashfunc=None)
    s_int = int.from_bytes(s, "big")
    if s_int > N // 2:
        s = (N - s_int).to_bytes(32, "big")
    signed = transaction + r + s
    print("0x" + signed.hex(), "0x" + keccak256(signed).hex())


if __name__ == "__main__":
    main()
