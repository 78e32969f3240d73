//! The infrastructure repository, read with the `git` binary and never written: uncommitted
//! changes, commits not on the upstream branch, the last commit, and whether the compose files
//! of running services are tracked in it.

use std::path::Path;
use std::time::Duration;

use time::OffsetDateTime;

use app::model::evidence::RepoFacts;

const GIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs one read-only git command in `repo`: no optional locks (so `status` does not refresh
/// the index), this folder trusted whoever owns it, no pager, no prompts.
async fn git(repo: &Path, args: &[&str]) -> Result<String, String> {
    let safe = format!("safe.directory={}", repo.display());
    let mut command = tokio::process::Command::new("git");
    command
        .arg("-c")
        .arg(&safe)
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .kill_on_drop(true);
    let output = tokio::time::timeout(GIT_TIMEOUT, command.output())
        .await
        .map_err(|_| {
            format!(
                "git {} took longer than {} s",
                args.join(" "),
                GIT_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr)
            .lines()
            .next()
            .unwrap_or("git failed")
            .to_string())
    }
}

/// Whether a compose file named by its absolute path on a host is one of the repository's files
/// (the checkout may live at another path there, so the repository path is matched as a suffix).
fn tracked(compose_file: &str, files: &[&str]) -> bool {
    files
        .iter()
        .any(|f| compose_file == *f || compose_file.ends_with(&format!("/{f}")))
}

/// Reads the repository's state; a repository that cannot be read is described, not an error.
pub async fn inspect(repo: &Path, compose_files: &[String]) -> RepoFacts {
    let mut facts = RepoFacts {
        path: repo.display().to_string(),
        ..Default::default()
    };
    let head = match git(repo, &["rev-parse", "--abbrev-ref", "HEAD"]).await {
        Ok(b) => b.trim().to_string(),
        Err(e) => {
            facts.error = Some(format!("not a readable git repository: {e}"));
            return facts;
        }
    };
    facts.branch = Some(head);
    facts.upstream = git(
        repo,
        &["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}"],
    )
    .await
    .ok()
    .map(|u| u.trim().to_string());
    if let Ok(status) = git(
        repo,
        &["status", "--porcelain=v1", "--untracked-files=normal"],
    )
    .await
    {
        facts.uncommitted = status.lines().map(str::to_string).collect();
    }
    if facts.upstream.is_some() {
        facts.unpushed = git(repo, &["rev-list", "--count", "@{u}..HEAD"])
            .await
            .ok()
            .and_then(|n| n.trim().parse().ok());
    }
    if let Ok(last) = git(repo, &["log", "-1", "--format=%ct%x1f%s"]).await
        && let Some((at, subject)) = last.trim_end().split_once('\u{1f}')
    {
        facts.last_commit_at = at
            .parse::<i64>()
            .ok()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
        facts.last_commit_subject = Some(subject.to_string());
    }
    let listing = git(repo, &["ls-files", "-z"]).await.unwrap_or_default();
    let files: Vec<&str> = listing.split('\0').filter(|f| !f.is_empty()).collect();
    let mut compose: Vec<&String> = compose_files.iter().collect();
    compose.sort();
    compose.dedup();
    for c in compose {
        if tracked(c, &files) {
            facts.compose_tracked.push(c.clone());
        } else {
            facts.compose_untracked.push(c.clone());
        }
    }
    facts
}

/// Change Control from the facts: the mean of "nothing uncommitted", "nothing unpushed" (with
/// an upstream) and the share of running services' compose files in the repository, in
/// hundredths; with its evidence lines.
pub fn score(f: &RepoFacts) -> (i32, Vec<String>) {
    if let Some(e) = &f.error {
        return (0, vec![e.clone()]);
    }
    let mut parts: Vec<f64> = vec![];
    let mut lines = vec![];
    parts.push(if f.uncommitted.is_empty() { 1.0 } else { 0.0 });
    lines.push(match f.uncommitted.len() {
        0 => "no uncommitted change".to_string(),
        n => format!(
            "{n} uncommitted change(s): {}",
            f.uncommitted
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    });
    match (&f.upstream, f.unpushed) {
        (Some(u), Some(0)) => {
            parts.push(1.0);
            lines.push(format!("every commit is on {u}"));
        }
        (Some(u), Some(n)) => {
            parts.push(0.0);
            lines.push(format!("{n} commit(s) not on {u}"));
        }
        _ => {
            parts.push(0.0);
            lines.push(
                "the branch has no upstream: nothing proves its commits are kept elsewhere".into(),
            );
        }
    }
    let known = f.compose_tracked.len() + f.compose_untracked.len();
    if known > 0 {
        parts.push(f.compose_tracked.len() as f64 / known as f64);
        lines.push(format!(
            "{} of {known} running compose files are in the repository{}",
            f.compose_tracked.len(),
            if f.compose_untracked.is_empty() {
                String::new()
            } else {
                format!("; not: {}", f.compose_untracked.join(", "))
            }
        ));
    }
    if let (Some(at), Some(subject)) = (f.last_commit_at, &f.last_commit_subject) {
        lines.push(format!("last commit {} ({subject})", at.date()));
    }
    let mean = parts.iter().sum::<f64>() / parts.len() as f64;
    ((mean * 10_000.0).round() as i32, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_files_match_by_their_path_in_the_repository() {
        let files = ["monitoring/compose.yml", "README.md"];
        assert!(tracked("/opt/infra/monitoring/compose.yml", &files));
        assert!(!tracked("/opt/infra/other/compose.yml", &files));
        assert!(!tracked("/opt/infra/xmonitoring/compose.yml", &files));
    }
}
