//! Walking the docs folder: every `.md` file parsed and checked, or reported with the reason it
//! was skipped (too large, not UTF-8, broken front matter). One bad file never hides the others.

use std::path::{Path, PathBuf};

use app::model::docs::DocCheck;
use time::Date;

use super::checks::{DocTemplate, file_checks};
use super::frontmatter::{self, FrontMatter};
use super::markdown;

#[derive(Debug, Clone, PartialEq)]
pub struct ScannedDoc {
    /// Relative to the docs folder, with '/' separators.
    pub path: String,
    pub title: Option<String>,
    /// From the front matter, else the file name without extension.
    pub services: Vec<String>,
    pub engine: Option<String>,
    pub owner: Option<String>,
    pub last_verified: Option<Date>,
    pub checks: Vec<DocCheck>,
    pub html: String,
    pub content_hash: String,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct ScanOutcome {
    pub docs: Vec<ScannedDoc>,
    /// Files skipped, with the reason, for the page.
    pub problems: Vec<(String, String)>,
}

fn markdown_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = vec![];
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue; // .git and other hidden folders
            }
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file()
                && entry
                    .path()
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("md"))
                // A folder's README describes the repository, not a service.
                && !name.to_string_lossy().eq_ignore_ascii_case("readme.md")
            {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads every doc under `root`. Only a folder that cannot be listed at all is an error.
pub fn scan_dir(root: &Path, template: &DocTemplate) -> std::io::Result<ScanOutcome> {
    let mut outcome = ScanOutcome::default();
    for path in markdown_files(root)? {
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        match read_doc(&path, root, template) {
            Ok(doc) => outcome.docs.push(ScannedDoc {
                path: relative,
                ..doc
            }),
            Err(reason) => outcome.problems.push((relative, reason)),
        }
    }
    Ok(outcome)
}

fn read_doc(path: &Path, root: &Path, template: &DocTemplate) -> Result<ScannedDoc, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    // Checked before reading: Markdown parsers have superlinear cases, and a huge file is a mistake.
    if size > template.max_file_bytes {
        return Err(format!(
            "{size} bytes, larger than the {} byte limit",
            template.max_file_bytes
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let analysis = markdown::analyse(&text);
    let fm = match &analysis.front_matter {
        Some(block) => frontmatter::parse(block)?,
        None => FrontMatter::default(),
    };
    let services = if fm.services.is_empty() {
        vec![
            path.file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default(),
        ]
    } else {
        fm.services.clone()
    };
    let checks = file_checks(path, root, &fm, &analysis, template);
    Ok(ScannedDoc {
        path: String::new(),
        title: analysis.title.clone(),
        services,
        engine: fm.engine.clone(),
        owner: fm.owner.clone(),
        last_verified: fm.last_verified,
        checks,
        html: analysis.html,
        content_hash: content_hash(&text),
    })
}

/// A cheap fingerprint to notice edits (not a security boundary).
fn content_hash(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    format!("{:016x}", h.finish())
}
