"""Sign a Vellum transaction from docs/transactions.md alone, with PyPI's `ecdsa` (secp256k1,
RFC 6979) and `pycryptodome` (Keccak-256): an implementation independent of the node's.

usage: sign_transaction.py <secret key hex> <chain id> <nonce> <contract hex> <method> <args json>
       sign_transaction.py <secret key hex> <chain id> <nonce> rotate <account hex> <new secret key hex>
prints: <signed transaction hex> <transaction hash hex>

The first form signs a call; the second a key rotation of the account to the new key, with the
new key's proof.
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


def secret_key(text: str) -> SigningKey:
    return SigningKey.from_string(bytes.fromhex(text.removeprefix("0x")), curve=SECP256k1)


def compressed(key: SigningKey) -> bytes:
    public = key.get_verifying_key().to_string("compressed")
    assert len(public) == 33
    return public


def sign(key: SigningKey, prehash: bytes) -> bytes:
    """r || s over a 32-byte prehash, normalised to low-S."""
    r, s = key.sign_digest_deterministic(prehash, sigencode=sigencode_strings, hashfunc=None)
    s_int = int.from_bytes(s, "big")
    if s_int > N // 2:
        s = (N - s_int).to_bytes(32, "big")
    return r + s


def main() -> None:
    secret, chain_id, nonce, target, first, second = sys.argv[1:7]
    key = secret_key(secret)
    if target == "rotate":
        # Action::RotateKey is variant 10: account [u8; 32], public_key [u8; 33], proof [u8; 64],
        # the new key's signature of keccak256("vellum-rotate-key-v1" || borsh(chain_id) ||
        # account || public_key).
        account, new_key = bytes.fromhex(first.removeprefix("0x")), secret_key(second)
        public = compressed(new_key)
        proof = sign(new_key, keccak256(b"vellum-rotate-key-v1" + string(chain_id) + account + public))
        action = bytes([10]) + account + public + proof
    else:
        # Action::Call is variant 1: contract [u8; 32], method String, args String.
        action = bytes([1]) + bytes.fromhex(target.removeprefix("0x")) + string(first) + string(second)
    fuel_limit = 10_000_000
    transaction = string(chain_id) + compressed(key) + u64(int(nonce)) + u64(fuel_limit) + action
    signed = transaction + sign(key, keccak256(transaction))
    print("0x" + signed.hex(), "0x" + keccak256(signed).hex())


if __name__ == "__main__":
    main()
