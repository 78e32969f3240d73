//! The bundled Postgres: when no `DATABASE_URL` is given, `serve` runs a private server from the
//! system's PostgreSQL binaries in `<data_dir>/postgres`, reuses it on the next start and stops it
//! at shutdown. It listens on a unix socket inside that folder only, never on TCP.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};
use tokio::process::Command;

/// Postgres refuses to run as root; as root we run it as this unprivileged system user.
const UNPRIVILEGED_USER: &str = "postgres";
const DATABASE: &str = "audit";
const ROLE: &str = "audit";
const PORT: u16 = 5432;

pub struct BundledPostgres {
    root: PathBuf,
    bin: PathBuf,
    run_as: Option<&'static str>,
}

impl BundledPostgres {
    /// Initializes the cluster on first use, starts it (or reuses a running one) and makes sure
    /// the database exists. Returns the server and the URL to connect to.
    pub async fn start(data_dir: &Path) -> anyhow::Result<(BundledPostgres, String)> {
        let run_as = running_as_root().then_some(UNPRIVILEGED_USER);
        let root = cluster_folder(data_dir, run_as.is_some()).await?;
        std::fs::create_dir_all(root.join("run"))
            .with_context(|| format!("creating {}", root.display()))?;
        // Trust authentication is safe only while nobody else can reach the socket: its folder
        // (and the socket itself, below) admit the owner alone. Otherwise any local account could
        // connect as the superuser and switch off the audit trail's triggers.
        std::fs::set_permissions(root.join("run"), std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", root.join("run").display()))?;
        let bin = find_binaries(cluster_version(&root.join("pgdata"))?)?;
        let pg = BundledPostgres { root, bin, run_as };
        if run_as.is_some() {
            pg.hand_folder_to_postgres().await?;
        }
        let pgdata = pg.pgdata();
        if !pgdata.join("PG_VERSION").exists() {
            tracing::info!(folder = %pgdata.display(), "initializing the bundled Postgres (first start)");
            pg.run(
                "initdb",
                &[
                    "-D",
                    path_str(&pgdata)?,
                    "-U",
                    ROLE,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-locale",
                ],
            )
            .await?;
        }
        if pg.is_running().await {
            tracing::info!(folder = %pgdata.display(), "reusing the bundled Postgres that is already running");
        } else {
            tracing::info!(folder = %pgdata.display(), "starting the bundled Postgres");
            let options = format!(
                "-k {} -c listen_addresses='' -c unix_socket_permissions=0700 -p {PORT}",
                path_str(&pg.socket_dir())?
            );
            let log = pg.root.join("postgres.log");
            pg.run(
                "pg_ctl",
                &[
                    "-D",
                    path_str(&pgdata)?,
                    "-l",
                    path_str(&log)?,
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    &options,
                    "start",
                ],
            )
            .await
            .with_context(|| {
                format!("the bundled Postgres did not start; see {}", log.display())
            })?;
        }
        pg.ensure_database().await?;
        let url = format!(
            "postgres://{ROLE}@localhost/{DATABASE}?host={}&port={PORT}",
            pg.socket_dir().display()
        );
        Ok((pg, url))
    }

    /// Stops the server, waiting for it to finish writing ("fast" mode: sessions end, data is kept).
    pub async fn stop(&self) -> anyhow::Result<()> {
        let pgdata = self.pgdata();
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&pgdata)?,
                "-m",
                "fast",
                "-w",
                "-t",
                "30",
                "stop",
            ],
        )
        .await?;
        tracing::info!(folder = %pgdata.display(), "stopped the bundled Postgres");
        Ok(())
    }

    fn pgdata(&self) -> PathBuf {
        self.root.join("pgdata")
    }

    fn socket_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    async fn is_running(&self) -> bool {
        let Ok(pgdata) = path_str(&self.pgdata()).map(str::to_string) else {
            return false;
        };
        self.command("pg_ctl")
            .args(["-D", &pgdata, "status"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success())
    }

    async fn ensure_database(&self) -> anyhow::Result<()> {
        let sock = path_str(&self.socket_dir())?.to_string();
        let port = PORT.to_string();
        let exists = self
            .command("psql")
            .args([
                "-h", &sock, "-p", &port, "-U", ROLE, "-d", "postgres", "-tAc",
            ])
            .arg(format!(
                "SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"
            ))
            .output()
            .await
            .context("running psql")?;
        if String::from_utf8_lossy(&exists.stdout).trim() != "1" {
            self.run(
                "createdb",
                &["-h", &sock, "-p", &port, "-U", ROLE, DATABASE],
            )
            .await?;
            tracing::info!("created the database '{DATABASE}' in the bundled Postgres");
        }
        Ok(())
    }

    async fn hand_folder_to_postgres(&self) -> anyhow::Result<()> {
        let status = Command::new("chown")
            .args([
                "-R",
                &format!("{UNPRIVILEGED_USER}:"),
                path_str(&self.root)?,
            ])
            .status()
            .await
            .context("running chown")?;
        if !status.success() {
            bail!(
                "cannot give {} to the '{UNPRIVILEGED_USER}' user (Postgres refuses to run as root)",
                self.root.display()
            );
        }
        Ok(())
    }

    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        let mut cmd = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        // Run from a folder the unprivileged user may enter, whatever ours is.
        cmd.current_dir(&self.root)
            .stdin(Stdio::null())
            .kill_on_drop(false);
        cmd
    }

    async fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let out = self
            .command(program)
            .args(args)
            .output()
            .await
            .with_context(|| format!("running {program}"))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output");
            bail!("{program} failed ({}): {last}", out.status);
        }
        Ok(())
    }
}

/// Where root keeps a cluster whose data folder the postgres user cannot reach.
const SYSTEM_FOLDER: &str = "/var/lib/audit-portal";

/// The cluster's folder: `<data_dir>/postgres`. Run as root, Postgres runs as the postgres user,
/// who cannot enter a folder under a private home (a clone at /root/project); then the cluster
/// lives under /var/lib/audit-portal, in a folder named after the data folder, and
/// `<data_dir>/postgres` links to it, so later starts find the same cluster.
async fn cluster_folder(data_dir: &Path, as_root: bool) -> anyhow::Result<PathBuf> {
    let wanted =
        std::path::absolute(data_dir.join("postgres")).context("resolving the data folder")?;
    if wanted.is_symlink() {
        return std::fs::canonicalize(&wanted)
            .with_context(|| format!("following the link {}", wanted.display()));
    }
    std::fs::create_dir_all(&wanted).with_context(|| format!("creating {}", wanted.display()))?;
    if !as_root || postgres_can_enter(&wanted).await {
        return Ok(wanted);
    }
    if wanted.join("pgdata").exists() {
        bail!(
            "the postgres user cannot enter {}, which holds a cluster already; make its parent folders enterable (chmod o+x) or move the data folder (AUDIT_DATA_DIR)",
            wanted.display()
        );
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(wanted.to_string_lossy().as_bytes());
    let name: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let real = Path::new(SYSTEM_FOLDER).join(format!("postgres-{name}"));
    std::fs::create_dir_all(&real).with_context(|| format!("creating {}", real.display()))?;
    std::fs::set_permissions(SYSTEM_FOLDER, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("opening {SYSTEM_FOLDER} to the postgres user"))?;
    std::fs::remove_dir_all(&wanted).with_context(|| format!("replacing {}", wanted.display()))?;
    std::os::unix::fs::symlink(&real, &wanted)
        .with_context(|| format!("linking {} to {}", wanted.display(), real.display()))?;
    tracing::info!(
        data = %wanted.display(),
        cluster = %real.display(),
        "the postgres user cannot enter the data folder; the bundled cluster lives in the system folder, linked from it"
    );
    Ok(real)
}

/// Whether the unprivileged user can reach a folder (every parent must be enterable).
async fn postgres_can_enter(folder: &Path) -> bool {
    Command::new("runuser")
        .args(["-u", UNPRIVILEGED_USER, "--", "test", "-x"])
        .arg(folder.parent().unwrap_or(folder))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("path {} is not UTF-8", path.display()))
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// The major version an existing cluster was created with (its `PG_VERSION` file), if any.
fn cluster_version(pgdata: &Path) -> anyhow::Result<Option<u32>> {
    let file = pgdata.join("PG_VERSION");
    match std::fs::read_to_string(&file) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .with_context(|| format!("{} does not hold a version number", file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", file.display())),
    }
}

/// `AUDIT_PG_BIN`, else the binaries of the cluster's own major version (a newer server cannot
/// start an older cluster's files), else the newest installed for a new cluster.
fn find_binaries(cluster: Option<u32>) -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("AUDIT_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    if let Some(version) = cluster {
        return match found.into_iter().find(|(v, _)| *v == version) {
            Some((_, bin)) => Ok(bin),
            None => bail!(
                "the bundled database was created by PostgreSQL {version}, whose server binaries are not installed \
                 (install postgresql-{version}, or upgrade the cluster with pg_upgrade)"
            ),
        };
    }
    match found.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "no DATABASE_URL is set and no PostgreSQL server binaries were found in /usr/lib/postgresql \
             (install postgresql, or set DATABASE_URL)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_cluster_keeps_its_major_version() {
        let dir = std::env::temp_dir().join(format!("pg-version-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        assert_eq!(cluster_version(&dir).expect("no file is fine"), None);
        std::fs::write(dir.join("PG_VERSION"), "9999\n").expect("write");
        assert_eq!(cluster_version(&dir).expect("a number"), Some(9999));
        let err = find_binaries(Some(9999)).expect_err("no such server installed");
        assert!(format!("{err:#}").contains("PostgreSQL 9999"), "{err:#}");
        std::fs::write(dir.join("PG_VERSION"), "fifteen").expect("write");
        assert!(cluster_version(&dir).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
