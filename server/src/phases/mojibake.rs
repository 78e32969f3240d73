//! Repairs text whose UTF-8 was decoded as Windows-1252 ("âœ…" for "✅", "Ã©" for "é") or as
//! Mac Roman ("‚úÖ" for "✅", "üéØ" for "🎯") by some other tool: a line is re-encoded to the
//! bytes it came from and kept only when those bytes are valid UTF-8, so text that was right to
//! begin with is never changed.

/// Windows-1252's characters for bytes 0x80–0x9F (where it differs from Latin-1); the five
/// undefined bytes decode as the C1 control of the same value, which Latin-1 covers.
const CP1252_HIGH: [(char, u8); 27] = [
    ('€', 0x80),
    ('‚', 0x82),
    ('ƒ', 0x83),
    ('„', 0x84),
    ('…', 0x85),
    ('†', 0x86),
    ('‡', 0x87),
    ('ˆ', 0x88),
    ('‰', 0x89),
    ('Š', 0x8A),
    ('‹', 0x8B),
    ('Œ', 0x8C),
    ('Ž', 0x8E),
    ('‘', 0x91),
    ('’', 0x92),
    ('“', 0x93),
    ('”', 0x94),
    ('•', 0x95),
    ('–', 0x96),
    ('—', 0x97),
    ('˜', 0x98),
    ('™', 0x99),
    ('š', 0x9A),
    ('›', 0x9B),
    ('œ', 0x9C),
    ('ž', 0x9E),
    ('Ÿ', 0x9F),
];

fn cp1252_byte(c: char) -> Option<u8> {
    let code = u32::from(c);
    if code < 0x80 || (0xA0..=0xFF).contains(&code) || (0x80..0xA0).contains(&code) {
        return u8::try_from(code).ok();
    }
    CP1252_HIGH.iter().find(|(ch, _)| *ch == c).map(|(_, b)| *b)
}

/// Mac Roman's characters for bytes 0x80–0xFF, in byte order (below 0x80 it is ASCII).
const MAC_ROMAN_HIGH: [char; 128] = [
    '\u{00C4}', '\u{00C5}', '\u{00C7}', '\u{00C9}', '\u{00D1}', '\u{00D6}', '\u{00DC}', '\u{00E1}',
    '\u{00E0}', '\u{00E2}', '\u{00E4}', '\u{00E3}', '\u{00E5}', '\u{00E7}', '\u{00E9}', '\u{00E8}',
    '\u{00EA}', '\u{00EB}', '\u{00ED}', '\u{00EC}', '\u{00EE}', '\u{00EF}', '\u{00F1}', '\u{00F3}',
    '\u{00F2}', '\u{00F4}', '\u{00F6}', '\u{00F5}', '\u{00FA}', '\u{00F9}', '\u{00FB}', '\u{00FC}',
    '\u{2020}', '\u{00B0}', '\u{00A2}', '\u{00A3}', '\u{00A7}', '\u{2022}', '\u{00B6}', '\u{00DF}',
    '\u{00AE}', '\u{00A9}', '\u{2122}', '\u{00B4}', '\u{00A8}', '\u{2260}', '\u{00C6}', '\u{00D8}',
    '\u{221E}', '\u{00B1}', '\u{2264}', '\u{2265}', '\u{00A5}', '\u{00B5}', '\u{2202}', '\u{2211}',
    '\u{220F}', '\u{03C0}', '\u{222B}', '\u{00AA}', '\u{00BA}', '\u{03A9}', '\u{00E6}', '\u{00F8}',
    '\u{00BF}', '\u{00A1}', '\u{00AC}', '\u{221A}', '\u{0192}', '\u{2248}', '\u{2206}', '\u{00AB}',
    '\u{00BB}', '\u{2026}', '\u{00A0}', '\u{00C0}', '\u{00C3}', '\u{00D5}', '\u{0152}', '\u{0153}',
    '\u{2013}', '\u{2014}', '\u{201C}', '\u{201D}', '\u{2018}', '\u{2019}', '\u{00F7}', '\u{25CA}',
    '\u{00FF}', '\u{0178}', '\u{2044}', '\u{20AC}', '\u{2039}', '\u{203A}', '\u{FB01}', '\u{FB02}',
    '\u{2021}', '\u{00B7}', '\u{201A}', '\u{201E}', '\u{2030}', '\u{00C2}', '\u{00CA}', '\u{00C1}',
    '\u{00CB}', '\u{00C8}', '\u{00CD}', '\u{00CE}', '\u{00CF}', '\u{00CC}', '\u{00D3}', '\u{00D4}',
    '\u{F8FF}', '\u{00D2}', '\u{00DA}', '\u{00DB}', '\u{00D9}', '\u{0131}', '\u{02C6}', '\u{02DC}',
    '\u{00AF}', '\u{02D8}', '\u{02D9}', '\u{02DA}', '\u{00B8}', '\u{02DD}', '\u{02DB}', '\u{02C7}',
];

fn mac_roman_byte(c: char) -> Option<u8> {
    if c.is_ascii() {
        return u8::try_from(u32::from(c)).ok();
    }
    let at = MAC_ROMAN_HIGH.iter().position(|m| *m == c)?;
    u8::try_from(0x80 + at).ok()
}

/// An emoji's UTF-8 starts F0 9F; read as Mac Roman, F0 is the Apple logo (U+F8FF), which
/// other tools often drop, leaving "üéØ". Puts a missing F0 back before a 9F that starts a
/// three-byte run of continuation bytes with no lead byte of its own.
fn restore_dropped_emoji_leads(bytes: &[u8]) -> Vec<u8> {
    let continuation = |b: Option<&u8>| b.is_some_and(|b| (0x80..=0xBF).contains(b));
    let mut out = Vec::with_capacity(bytes.len() + 4);
    for (i, &b) in bytes.iter().enumerate() {
        let lead_missing = b == 0x9F
            && (i == 0 || bytes[i - 1] < 0x80)
            && continuation(bytes.get(i + 1))
            && continuation(bytes.get(i + 2));
        if lead_missing {
            out.push(0xF0);
        }
        out.push(b);
    }
    out
}

/// Bytes in Windows-1252, the usual encoding of text that is not UTF-8 on these machines' desks.
fn decode_cp1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            CP1252_HIGH
                .iter()
                .find(|(_, byte)| *byte == b)
                .map_or(char::from(b), |(c, _)| *c)
        })
        .collect()
}

/// Decodes text line by line: UTF-8 lines as they are, any other line as Windows-1252 (so a
/// file saved by an old editor keeps its "é" instead of showing "�"). Returns the text and how
/// many lines were not UTF-8.
pub fn decode(bytes: &[u8]) -> (String, usize) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_string(), 0);
    }
    let mut legacy_lines = 0;
    let mut out = String::with_capacity(bytes.len());
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        match std::str::from_utf8(line) {
            Ok(text) => out.push_str(text),
            Err(_) => {
                legacy_lines += 1;
                out.push_str(&decode_cp1252(line));
            }
        }
    }
    (out, legacy_lines)
}

/// The line as it was before the mangling, when it clearly was mangled; `None` otherwise.
/// Windows-1252 is tried first, then Mac Roman.
pub fn repair_line(line: &str) -> Option<String> {
    if line.is_ascii() {
        return None;
    }
    let bytes =
        |encode: fn(char) -> Option<u8>| line.chars().map(encode).collect::<Option<Vec<u8>>>();
    let valid_change = |bytes: Vec<u8>| {
        String::from_utf8(bytes)
            .ok()
            .filter(|repaired| repaired != line)
    };
    if let Some(repaired) = bytes(cp1252_byte).and_then(valid_change) {
        return Some(repaired);
    }
    let mac = bytes(mac_roman_byte)?;
    valid_change(mac.clone()).or_else(|| valid_change(restore_dropped_emoji_leads(&mac)))
}

/// Repairs every mangled line; returns the text and how many lines changed.
pub fn repair(text: &str) -> (String, usize) {
    let mut repaired_lines = 0;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        match repair_line(body) {
            Some(fixed) => {
                repaired_lines += 1;
                out.push_str(&fixed);
            }
            None => out.push_str(body),
        }
        out.push_str(end);
    }
    (out, repaired_lines)
}

/// What the importer's tests need to mangle text the way a Mac Roman reader does.
#[cfg(test)]
pub(super) mod tests_support {
    pub fn mac_roman_char(byte: u8) -> char {
        super::MAC_ROMAN_HIGH[usize::from(byte) - 0x80]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mangled_lines_are_restored() {
        assert_eq!(repair_line("## âœ… Done").as_deref(), Some("## ✅ Done"));
        assert_eq!(repair_line("CafÃ© review").as_deref(), Some("Café review"));
        assert_eq!(
            repair_line("ðŸŽ¯ Objectives").as_deref(),
            Some("🎯 Objectives")
        );
    }

    #[test]
    fn mac_roman_mangling_is_restored_too() {
        assert_eq!(repair_line("## ‚úÖ Done").as_deref(), Some("## ✅ Done"));
        assert_eq!(
            repair_line("Step 1 ‚Üí Step 2").as_deref(),
            Some("Step 1 → Step 2")
        );
        // With the Apple logo that F0 becomes, and without it (most tools drop it).
        assert_eq!(
            repair_line("## \u{F8FF}üìã Checklist").as_deref(),
            Some("## 📋 Checklist")
        );
        assert_eq!(
            repair_line("## üéØ Objectives").as_deref(),
            Some("## 🎯 Objectives")
        );
        // Real words with these letters are left alone.
        assert_eq!(repair_line("Prüfung der Übergabe"), None);
        assert_eq!(repair_line("Café, naïve, São Paulo"), None);
    }

    #[test]
    fn lines_that_are_not_utf8_are_read_as_windows_1252() {
        let mut bytes = "✅ fine\nCaf".as_bytes().to_vec();
        bytes.extend_from_slice(&[0xE9, b' ', 0x80, b'5', b'\n']);
        assert_eq!(decode(&bytes), ("✅ fine\nCafé €5\n".to_string(), 1));
        assert_eq!(decode("plain ✅".as_bytes()), ("plain ✅".to_string(), 0));
    }

    #[test]
    fn correct_text_is_left_alone() {
        assert_eq!(repair_line("Café review"), None);
        assert_eq!(repair_line("## ✅ Done"), None);
        assert_eq!(repair_line("plain ascii"), None);
        assert_eq!(repair_line("Größe: 5 €"), None);
        let (text, n) = repair("a\nCafÃ©\nb");
        assert_eq!((text.as_str(), n), ("a\nCafé\nb", 1));
    }
}
