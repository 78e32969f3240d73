//! Classifying log lines by level, bounded in bytes and samples.

use super::observation::LogSummary;

const MAX_SAMPLES: usize = 5;
const MAX_SAMPLE_CHARS: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Fatal,
    Error,
    Warning,
    Other,
}

/// The level a line reports, from the usual spellings (`ERROR`, `level=error`, `[err]`, `panic:`…).
/// A line counts once, at its most severe level.
pub fn classify(line: &str) -> Level {
    let lower = line.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |names: &[&str]| words.iter().any(|w| names.contains(w));
    if has(&[
        "fatal",
        "panic",
        "crit",
        "critical",
        "emerg",
        "emergency",
        "alert",
    ]) {
        Level::Fatal
    } else if has(&["error", "err", "errors", "exception"]) {
        Level::Error
    } else if has(&["warn", "warning", "warnings"]) {
        Level::Warning
    } else {
        Level::Other
    }
}

/// Accumulates lines from chunks that may split a line anywhere.
#[derive(Debug, Default)]
pub struct LogAccumulator {
    pending: String,
    pub summary: LogSummary,
    pub bytes: usize,
}

impl LogAccumulator {
    pub fn push_chunk(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len();
        self.pending.push_str(&String::from_utf8_lossy(chunk));
        while let Some(i) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=i).collect();
            self.line(line.trim_end());
        }
    }

    pub fn finish(mut self) -> LogSummary {
        let rest = std::mem::take(&mut self.pending);
        if !rest.trim().is_empty() {
            self.line(rest.trim_end());
        }
        self.summary
    }

    fn line(&mut self, line: &str) {
        let level = classify(line);
        match level {
            Level::Fatal => self.summary.fatals += 1,
            Level::Error => self.summary.errors += 1,
            Level::Warning => self.summary.warnings += 1,
            Level::Other => return,
        }
        if matches!(level, Level::Fatal | Level::Error) {
            if self.summary.samples.len() == MAX_SAMPLES {
                self.summary.samples.remove(0);
            }
            self.summary
                .samples
                .push(line.chars().take(MAX_SAMPLE_CHARS).collect());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(
            classify("2026-11-22 ERROR upstream timed out"),
            Level::Error
        );
        assert_eq!(classify("level=error msg=\"boom\""), Level::Error);
        assert_eq!(classify("[err] cannot bind"), Level::Error);
        assert_eq!(
            classify("panic: runtime error: index out of range"),
            Level::Fatal
        );
        assert_eq!(classify("FATAL: cannot open config"), Level::Fatal);
        assert_eq!(classify("WARN: retrying"), Level::Warning);
        assert_eq!(
            classify("GET /errors.html 200"),
            Level::Error,
            "a word match is a match; noisy but honest"
        );
        assert_eq!(
            classify("terrorist movie review"),
            Level::Other,
            "substrings do not count"
        );
        assert_eq!(classify("all good"), Level::Other);
    }

    #[test]
    fn lines_split_across_chunks_count_once_and_samples_are_bounded() {
        let mut acc = LogAccumulator::default();
        acc.push_chunk(b"ERROR one\nWA");
        acc.push_chunk(b"RN two\n");
        for i in 0..10 {
            acc.push_chunk(format!("ERROR number {i}\n").as_bytes());
        }
        acc.push_chunk(b"FATAL tail without newline");
        let s = acc.finish();
        assert_eq!((s.errors, s.warnings, s.fatals), (11, 1, 1));
        assert_eq!(s.samples.len(), 5);
        assert_eq!(
            s.samples.last().map(String::as_str),
            Some("FATAL tail without newline")
        );
    }
}
