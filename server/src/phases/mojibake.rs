//! Repairs text whose UTF-8 was decoded as Windows-1252 by some other tool ("âœ…" for "✅",
//! "Ã©" for "é"): a line is re-encoded to the bytes it came from and kept only when those bytes
//! are valid UTF-8, so text that was right to begin with is never changed.

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
pub fn repair_line(line: &str) -> Option<String> {
    if line.is_ascii() {
        return None;
    }
    let mut bytes = Vec::with_capacity(line.len());
    for c in line.chars() {
        bytes.push(cp1252_byte(c)?);
    }
    let repaired = String::from_utf8(bytes).ok()?;
    (repaired != line).then_some(repaired)
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
