//! Reading one Markdown doc with pulldown-cmark: its front matter, headings, fenced code by
//! section, links, and its HTML with heading anchors, sanitized so a doc cannot inject script.

use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, HeadingLevel, MetadataBlockKind, Options, Parser, Tag, TagEnd,
};

/// What the checks need from a doc, plus its rendered HTML.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub front_matter: Option<String>,
    pub title: Option<String>,
    /// Every heading's text, in order.
    pub headings: Vec<String>,
    /// Fenced code blocks, each with the heading it sits under.
    pub code_blocks: Vec<(Option<String>, String)>,
    pub links: Vec<String>,
    pub task_items: usize,
    pub html: String,
}

fn options() -> Options {
    Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
}

/// A heading's anchor: lowercase words joined by '-'.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

pub fn analyse(text: &str) -> Analysis {
    let mut a = Analysis::default();
    let mut events: Vec<Event> = vec![];
    let mut in_metadata = false;
    let mut heading: Option<(usize, HeadingLevel, String)> = None; // index in events, level, text
    let mut current_heading: Option<String> = None;
    let mut code: Option<String> = None;
    let mut used_ids: Vec<String> = vec![];
    for event in Parser::new_ext(text, options()) {
        match &event {
            Event::Start(Tag::MetadataBlock(MetadataBlockKind::YamlStyle)) => in_metadata = true,
            Event::End(TagEnd::MetadataBlock(_)) => in_metadata = false,
            Event::Text(t) if in_metadata => {
                a.front_matter.get_or_insert_with(String::new).push_str(t);
            }
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((events.len(), *level, String::new()))
            }
            Event::Text(t) | Event::Code(t) if heading.is_some() => {
                if let Some((_, _, h)) = heading.as_mut() {
                    h.push_str(t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((index, level, text)) = heading.take() {
                    if level == HeadingLevel::H1 && a.title.is_none() {
                        a.title = Some(text.trim().to_string());
                    }
                    // Give the heading an anchor id, unique within the doc.
                    let mut id = slug(&text);
                    let base = id.clone();
                    let mut n = 1;
                    while used_ids.contains(&id) {
                        n += 1;
                        id = format!("{base}-{n}");
                    }
                    used_ids.push(id.clone());
                    if let Some(Event::Start(Tag::Heading { id: slot, .. })) = events.get_mut(index)
                    {
                        *slot = Some(CowStr::from(id));
                    }
                    a.headings.push(text.trim().to_string());
                    current_heading = Some(text.trim().to_string());
                }
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) => code = Some(String::new()),
            Event::Text(t) if code.is_some() => {
                if let Some(c) = code.as_mut() {
                    c.push_str(t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some(c) = code.take() {
                    a.code_blocks.push((current_heading.clone(), c));
                }
            }
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => {
                a.links.push(dest_url.to_string());
            }
            Event::TaskListMarker(_) => a.task_items += 1,
            _ => {}
        }
        if !in_metadata
            && !matches!(
                event,
                Event::Start(Tag::MetadataBlock(_)) | Event::End(TagEnd::MetadataBlock(_))
            )
        {
            events.push(event);
        }
    }
    let mut raw_html = String::new();
    // The page's own <h1> is the doc's title: the doc's headings sit one level below it.
    pulldown_cmark::html::push_html(&mut raw_html, events.into_iter().map(demote_heading));
    a.html = sanitize(&raw_html);
    a
}

fn demote(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

fn demote_heading(event: Event) -> Event {
    match event {
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: demote(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(demote(level))),
        other => other,
    }
}

/// Keeps ordinary document markup and heading anchors; drops script, styles, event handlers
/// and javascript: URLs. Ids are prefixed so a doc cannot clobber the portal's own elements.
pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .add_tag_attributes("h1", &["id"])
        .add_tag_attributes("h2", &["id"])
        .add_tag_attributes("h3", &["id"])
        .add_tag_attributes("h4", &["id"])
        .add_tag_attributes("h5", &["id"])
        .add_tag_attributes("h6", &["id"])
        .add_tag_attributes("input", &["type", "checked", "disabled"])
        .add_tags(&["input"])
        .id_prefix(Some("doc-"))
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_is_extracted() {
        let a = analyse(
            "---\nservice: grafana\n---\n# Grafana 📈\n\n## Verification\n\n```sh\ncurl -f http://grafana:3000/api/health\n```\n\n- [x] done\n- [ ] todo\n\nSee [config](config.md) and [site](https://grafana.com).\n\n## Verification\n",
        );
        assert_eq!(a.front_matter.as_deref(), Some("service: grafana\n"));
        assert_eq!(a.title.as_deref(), Some("Grafana 📈"));
        assert_eq!(a.headings, ["Grafana 📈", "Verification", "Verification"]);
        assert_eq!(
            a.code_blocks,
            [(
                Some("Verification".to_string()),
                "curl -f http://grafana:3000/api/health\n".to_string()
            )]
        );
        assert_eq!(a.links, ["config.md", "https://grafana.com"]);
        assert_eq!(a.task_items, 2);
        assert!(
            a.html.contains(r#"<h3 id="doc-verification">"#),
            "{}",
            a.html
        );
        assert!(
            a.html.contains(r#"<h3 id="doc-verification-2">"#),
            "anchors are unique"
        );
        assert!(
            !a.html.contains("service: grafana"),
            "front matter is not rendered"
        );
    }

    #[test]
    fn script_never_survives() {
        let a = analyse(
            "# Hi\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[x](javascript:alert(3))\n\n</textarea><script>alert(4)</script>\n",
        );
        for bad in ["<script", "onerror", "javascript:", "</textarea>"] {
            assert!(!a.html.contains(bad), "{bad} survived: {}", a.html);
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Backup and restore!"), "backup-and-restore");
        assert_eq!(slug("  🔧 Troubleshooting  "), "troubleshooting");
    }
}
