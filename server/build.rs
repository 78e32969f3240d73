//! Records the git commit the binary is built from, for `audit-portal --version`. A build
//! without a checkout (an image built from a source archive) may pass AUDIT_GIT_COMMIT instead.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=AUDIT_GIT_COMMIT");
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs/heads");
    let commit = std::env::var("AUDIT_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| {
            Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=AUDIT_GIT_COMMIT={commit}");
}
