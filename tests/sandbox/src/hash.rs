//! Deterministic short hex hashes for resource names. The real controllers
//! use sha1/sha256; only determinism and spread matter here, so a 64-bit
//! FNV-1a over the parts (NUL-separated) stands in for them.

/// FNV-1a 64 over `parts` joined with NUL bytes.
pub fn fnv64(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h ^= 0;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// `n` lowercase hex characters (n <= 32) derived from `parts`.
pub fn hex(parts: &[&str], n: usize) -> String {
    let a = fnv64(parts);
    let mut salted: Vec<&str> = parts.to_vec();
    salted.push("\u{1}");
    let b = fnv64(&salted);
    let s = format!("{a:016x}{b:016x}");
    s[..n.min(32)].to_string()
}

/// Keep only ASCII alphanumerics (the LBC strips the rest from name parts).
pub fn alnum(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

/// The first `n` characters of `s`.
pub fn prefix(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
