//! Key files: validators' ed25519 consensus keys and members' secp256k1 transaction keys,
//! as `0x` hex of the secret.

use anyhow::{anyhow, Context as _};
use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_cryptography::ed25519;
use k256::ecdsa::SigningKey;
use std::path::Path;
use vellum_types::{hex, unhex};

/// A new random validator key.
pub fn generate_validator_key() -> anyhow::Result<ed25519::PrivateKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow!("no randomness for a key: {e}"))?;
    ed25519::PrivateKey::decode(seed.to_vec()).map_err(|e| anyhow!("bad key material: {e}"))
}

/// Read a validator key file (hex).
pub fn read_validator_key(path: &Path) -> anyhow::Result<ed25519::PrivateKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the validator key {}", path.display()))?;
    let bytes =
        unhex(text.trim()).ok_or_else(|| anyhow!("{} does not hold a hex key", path.display()))?;
    ed25519::PrivateKey::decode(bytes)
        .map_err(|e| anyhow!("{} does not hold an ed25519 key: {e}", path.display()))
}

/// `0x` hex of a validator key's secret, for its key file.
pub fn validator_key_hex(key: &ed25519::PrivateKey) -> String {
    hex(&key.encode())
}

/// A new random transaction key.
pub fn generate_member_key() -> anyhow::Result<SigningKey> {
    loop {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| anyhow!("no randomness for a key: {e}"))?;
        if let Ok(key) = SigningKey::from_slice(&secret) {
            return Ok(key);
        }
    }
}
