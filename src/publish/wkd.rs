//! Web Key Directory (draft-koch-openpgp-webkey-service): the z-base-32 hashed
//! local part, and where the advanced and direct methods expect the key.

use sha1::{Digest, Sha1};

const ZBASE32: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";

/// z-base-32 encoding, most significant bit first, without padding.
pub fn zbase32(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 8 / 5 + 1);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ZBASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ZBASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The WKD hash of an address's local part (lower-cased, as GnuPG does).
pub fn hash_local_part(local: &str) -> String {
    let digest = Sha1::digest(local.to_lowercase().as_bytes());
    zbase32(&digest)
}

/// The `(advanced, direct)` paths below `.well-known/openpgpkey/` for an address.
pub fn paths(address: &str) -> Option<(String, String)> {
    let (local, domain) = address.rsplit_once('@')?;
    let domain = domain.to_ascii_lowercase();
    let h = hash_local_part(local);
    let l = percent_encode(local);
    Some((format!("{domain}/hu/{h}?l={l}"), format!("hu/{h}?l={l}")))
}

/// The file names only (no `?l=` query), as they are written to disk.
pub fn file_paths(address: &str) -> Option<(String, String)> {
    let (local, domain) = address.rsplit_once('@')?;
    let domain = domain.to_ascii_lowercase();
    let h = hash_local_part(local);
    Some((format!("{domain}/hu/{h}"), format!("hu/{h}")))
}

/// Percent-encode everything but RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_hash() {
        // The example from the WKD draft: "Joe.Doe" -> iy9q119eutrkn8s1mk4r39qejnbu3n5q
        assert_eq!(hash_local_part("Joe.Doe"), "iy9q119eutrkn8s1mk4r39qejnbu3n5q");
    }
}
