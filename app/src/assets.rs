//! The stylesheet and icon, embedded in the binary, with names that carry a hash of their
//! content: a browser may keep them for a year, since any change makes a new name.

use std::sync::OnceLock;

pub const STYLESHEET: &str = include_str!("../../style/portal.css");
pub const FAVICON: &str = include_str!("../../public/favicon.svg");

/// FNV-1a, 64 bits: a content fingerprint for a file name, not a security measure.
fn fingerprint(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// `/assets/portal-<hash>.css`
pub fn stylesheet_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| format!("/assets/portal-{}.css", fingerprint(STYLESHEET.as_bytes())))
}

/// `/assets/favicon-<hash>.svg`
pub fn favicon_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| format!("/assets/favicon-{}.svg", fingerprint(FAVICON.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_content() {
        assert_ne!(fingerprint(b"a{}"), fingerprint(b"b{}"));
        assert_eq!(fingerprint(b"a{}"), fingerprint(b"a{}"));
        assert!(
            stylesheet_path().starts_with("/assets/portal-") && stylesheet_path().ends_with(".css")
        );
        assert_eq!(stylesheet_path().len(), "/assets/portal-.css".len() + 16);
    }
}
