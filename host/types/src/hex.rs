//! `0x`-prefixed lowercase hex: how every byte string appears in JSON, files and logs.

/// Lowercase hex of `bytes`, `0x`-prefixed.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 + bytes.len() * 2);
    text.push_str("0x");
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    text
}

/// The bytes of `0x`-prefixed hex `text`, if it is that.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let digits = text.strip_prefix("0x")?;
    if !digits.len().is_multiple_of(2) || !digits.is_ascii() {
        return None;
    }
    (0..digits.len() / 2)
        .map(|i| u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// 32 bytes from `0x` and 64 hex digits, if `text` is that.
pub fn unhex32(text: &str) -> Option<[u8; 32]> {
    unhex(text)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_what_is_not_hex() {
        let bytes = [0x00, 0x0f, 0xa5, 0xff];
        assert_eq!(hex(&bytes), "0x000fa5ff");
        assert_eq!(unhex("0x000fa5ff"), Some(bytes.to_vec()));
        assert_eq!(unhex("0x"), Some(Vec::new()));
        assert_eq!(unhex("000f"), None);
        assert_eq!(unhex("0x0"), None);
        assert_eq!(unhex("0xzz"), None);
        assert_eq!(unhex("0xé0"), None);
        assert_eq!(unhex32(&hex(&[7; 32])), Some([7; 32]));
        assert_eq!(unhex32(&hex(&[7; 31])), None);
    }
}
