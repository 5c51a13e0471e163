//! 32-byte identifiers: account and contract addresses, and hashes.
//!
//! In JSON both are a `0x`-prefixed hex string of 64 digits, which is how integrators write them;
//! in a binary format such as contract storage (not human-readable), their 32 bytes.

use core::fmt;

macro_rules! bytes32 {
    ($(#[$doc:meta])* $name:ident, $expecting:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// Parse `0x` followed by 64 hex digits (either case).
            pub fn parse(text: &str) -> Option<Self> {
                parse_hex32(text).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(hex32(&self.0, &mut [0; 66]))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if serializer.is_human_readable() {
                    serializer.serialize_str(hex32(&self.0, &mut [0; 66]))
                } else {
                    serde::Serialize::serialize(&self.0, serializer)
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                if !deserializer.is_human_readable() {
                    return <[u8; 32] as serde::Deserialize>::deserialize(deserializer).map(Self);
                }
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<$name, E> {
                        $name::parse(text)
                            .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(text), &self))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }
    };
}

bytes32!(
    /// A 32-byte account or contract address.
    Address,
    "an address: 0x followed by 64 hex digits"
);

bytes32!(
    /// A 32-byte hash, such as a document's SHA3-256.
    Hash,
    "a hash: 0x followed by 64 hex digits"
);

/// `0x` and the 64 lowercase hex digits of `bytes`, written into `out`. A table lookup per digit,
/// not `core::fmt`: in wasm, formatting a byte with `{:02x}` costs hundreds of instructions, and
/// more for a byte below `0x10` (the padding), which made a contract's fuel depend on the values
/// of the addresses it wrote.
fn hex32<'a>(bytes: &[u8; 32], out: &'a mut [u8; 66]) -> &'a str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out[..2].copy_from_slice(b"0x");
    for (pair, byte) in out[2..].chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    // Every byte written is ASCII.
    core::str::from_utf8(out).unwrap_or_default()
}

fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    let digits = text.strip_prefix("0x")?.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks(2)) {
        let hex = |c: u8| (c as char).to_digit(16);
        *byte = (hex(pair[0])? * 16 + hex(pair[1])?) as u8;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_malformed_text() {
        let mixed: [u8; 32] = core::array::from_fn(|i| (i * 37) as u8);
        let expected: alloc::string::String =
            mixed.iter().map(|b| alloc::format!("{b:02x}")).collect();
        assert_eq!(
            alloc::string::ToString::to_string(&Address(mixed)),
            alloc::format!("0x{expected}"),
            "the table gives what core::fmt gives, leading zeros included"
        );
        let address = Address([0xab; 32]);
        let text = alloc::string::ToString::to_string(&address);
        assert_eq!(Address::parse(&text), Some(address));
        assert_eq!(
            Address::parse(&text.to_uppercase().replace("0X", "0x")),
            Some(address)
        );
        assert_eq!(Address::parse(&text[2..]), None, "missing 0x");
        assert_eq!(Address::parse(&text[..64]), None, "too short");
        assert_eq!(
            Hash::parse(&alloc::format!("0x{}", "g".repeat(64))),
            None,
            "not hex"
        );
    }
}
