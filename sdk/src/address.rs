//! 32-byte identifiers: account and contract addresses, and hashes.
//!
//! In JSON both are a `0x`-prefixed hex string of 64 digits, which is how integrators write them.

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
                f.write_str("0x")?;
                self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
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
