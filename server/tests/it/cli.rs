//! The binary as an operator meets it: one-line errors, check-config, SIGTERM, the bundled Postgres.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_audit-portal");

fn run(env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .expect("run audit-portal");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn a_bad_listen_address_is_one_clear_line() {
    let (code, _, stderr) = run(&[("AUDIT_LISTEN", "nonsense")], &["serve"]);
    assert_ne!(code, 0);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("AUDIT_LISTEN") && stderr.contains("'nonsense' is not a socket address"),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_database_is_one_clear_line_without_the_password() {
    let (code, _, stderr) = run(
        &[
            ("DATABASE_URL", "postgres://app:topsecret@127.0.0.1:1/audit"),
            ("AUDIT_DEMO_SIGN_IN", "true"),
            ("AUDIT_LISTEN", "127.0.0.1:0"),
        ],
        &["serve"],
    );
    assert_ne!(code, 0);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            "cannot connect to the database at postgres://app:[redacted]@127.0.0.1:1/audit"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("topsecret"));
}

#[test]
fn serve_refuses_to_start_without_a_way_to_sign_in() {
    let (code, _, stderr) = run(&[("AUDIT_LISTEN", "127.0.0.1:0")], &["serve"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("sign-in is not configured"), "{stderr}");
    let (code, _, stderr) = run(
        &[
            ("AUDIT_LISTEN", "0.0.0.0:0"),
            ("AUDIT_DEMO_SIGN_IN", "true"),
        ],
        &["serve"],
    );
    assert_ne!(code, 0);
    assert_eq!(stderr.lines().count(), 1);
    assert!(
        stderr.contains("AUDIT_DEMO_SIGN_IN") && stderr.contains("loopback"),
        "{stderr}"
    );
}

#[test]
fn check_config_prints_the_effective_configuration_redacted() {
    let (code, stdout, _) = run(
        &[
            ("DATABASE_URL", "postgres://app:topsecret@db/audit"),
            ("AUDIT_ENGINES", "master=unix:///var/run/docker.sock"),
        ],
        &["check-config"],
    );
    assert_eq!(code, 0);
    assert!(
        stdout.contains("database = postgres://app:[redacted]@db/audit"),
        "{stdout}"
    );
    assert!(
        stdout.contains("engines = [master=unix:///var/run/docker.sock]"),
        "{stdout}"
    );
    assert!(!stdout.contains("topsecret"));
}

fn get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut body = String::new();
    stream.read_to_string(&mut body).ok()?;
    Some(body)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the portal if a test fails before stopping it, so no server outlives its test.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.0.id().to_string()])
                .status();
            let _ = self.0.wait();
        }
    }
}

/// Starts `serve`, waits for /readyz, then SIGTERMs it and returns the exit status and time taken.
fn serve_then_terminate(
    env: &[(&str, &str)],
    before_stop: impl FnOnce(u16),
) -> (Option<i32>, Duration) {
    let (code, took, _) = serve_then_terminate_logged(env, before_stop);
    (code, took)
}

/// `serve_then_terminate`, also returning what the portal logged.
fn serve_then_terminate_logged(
    env: &[(&str, &str)],
    before_stop: impl FnOnce(u16),
) -> (Option<i32>, Duration, String) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = ChildGuard(
        Command::new(BIN)
            .arg("serve")
            .env_remove("DATABASE_URL")
            .env("AUDIT_LISTEN", &listen)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let child = &mut child.0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !get(port, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
        assert!(Instant::now() < deadline, "the portal did not become ready");
        if child.try_wait().unwrap().is_some() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).ok();
            panic!("the portal exited early: {stderr}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    before_stop(port);
    let stopped = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let took = stopped.elapsed();
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).ok();
            return (status.code(), took, stderr);
        }
        if stopped.elapsed() > Duration::from_secs(15) {
            child.kill().ok();
            panic!("the portal did not stop within 15 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (scripts/test sets it)");
    let (code, took, log) = serve_then_terminate_logged(
        &[
            ("DATABASE_URL", &url),
            ("AUDIT_WORKER_IN_SERVE", "false"),
            ("AUDIT_DEMO_SIGN_IN", "true"),
            ("AUDIT_LOG_FORMAT", "json"),
        ],
        |port| {
            assert!(get(port, "/auth/login").unwrap().contains("Sign in"));
            // The image's HEALTHCHECK: ready while serving.
            let listen = format!("0.0.0.0:{port}");
            let (code, stdout, stderr) = run(&[("AUDIT_LISTEN", &listen)], &["healthcheck"]);
            assert_eq!((code, stdout.trim()), (0, "ready"), "{stderr}");
        },
    );
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // Every answered request is one INFO line: method, path, route template, status, latency, id.
    let answered: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["message"] == "answered")
        .collect();
    let login = answered
        .iter()
        .find(|l| l["span"]["path"] == "/auth/login")
        .unwrap_or_else(|| panic!("no request line for /auth/login in:\n{log}"));
    assert_eq!(login["level"], "INFO");
    assert_eq!(login["span"]["method"], "GET");
    assert_eq!(login["span"]["route"], "/auth/login");
    assert_eq!(login["status"], 200);
    assert!(login["latency_ms"].as_f64().is_some(), "{login}");
    assert!(
        login["span"]["id"]
            .as_str()
            .is_some_and(|id| id.len() >= 32),
        "{login}"
    );
}

#[test]
fn healthcheck_fails_when_nothing_answers_and_version_names_the_commit() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let (code, _, stderr) = run(&[("AUDIT_LISTEN", &listen)], &["healthcheck"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("/readyz: no answer"), "{stderr}");
    let (code, stdout, _) = run(&[], &["--version"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with(&format!(
            "audit-portal {} (commit ",
            env!("CARGO_PKG_VERSION")
        )),
        "{stdout}"
    );
}

/// Without DATABASE_URL the portal runs its own Postgres, keeps its data across restarts and
/// leaves no server behind.
#[test]
fn the_bundled_postgres_keeps_data_and_stops_with_the_portal() {
    let data = std::env::temp_dir().join(format!("audit-bundled-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    // The unprivileged postgres user must be able to reach the folder.
    Command::new("chmod")
        .args(["755", data.to_str().unwrap()])
        .status()
        .unwrap();
    let data_dir = data.to_str().unwrap().to_string();
    let env = [
        ("AUDIT_DATA_DIR", data_dir.as_str()),
        ("AUDIT_WORKER_IN_SERVE", "false"),
        ("AUDIT_DEMO_SIGN_IN", "true"),
    ];
    let pidfile = data.join("postgres/pgdata/postmaster.pid");

    let (code, took) = serve_then_terminate(&env, |_| {
        assert!(
            pidfile.exists(),
            "the bundled Postgres runs while the portal does"
        );
        // Trust authentication on a socket no other local account can reach.
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let run = data.join("postgres/run");
        let mode = std::fs::metadata(&run).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "socket folder mode {mode:o}");
        let socket = std::fs::read_dir(&run)
            .unwrap()
            .flatten()
            .find(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                name.starts_with(".s.PGSQL") && !name.ends_with(".lock")
            })
            .expect("the socket");
        let mode = socket.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "socket mode {mode:o}");
        // Another local account cannot even reach it.
        if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
            let url = format!("postgres://audit@localhost/audit?host={data_dir}/postgres/run");
            let out = Command::new("runuser")
                .args(["-u", "nobody", "--", "psql", &url, "-tAc", "SELECT 1"])
                .output()
                .unwrap();
            assert!(
                !out.status.success(),
                "another account connected: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        let url = format!("postgres://audit@localhost/audit?host={data_dir}/postgres/run");
        psql(
            &url,
            "INSERT INTO engines (name, endpoint) VALUES ('kept', 'unix:///x')",
        );
    });
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(
        !pidfile.exists(),
        "the bundled Postgres stopped with the portal"
    );

    let (code, _) = serve_then_terminate(&env, |_| {
        let url = format!("postgres://audit@localhost/audit?host={data_dir}/postgres/run");
        let out = psql(&url, "SELECT name FROM engines");
        assert!(out.contains("kept"), "data survived the restart: {out}");
    });
    assert_eq!(code, Some(0));
    assert!(!pidfile.exists());
    std::fs::remove_dir_all(&data).ok();
}

/// Run as root with the data folder in a private home (a clone at /root/project), the cluster
/// lives under /var/lib/audit-portal, linked from the data folder, and the portal serves.
#[test]
fn the_bundled_postgres_serves_from_a_folder_the_postgres_user_cannot_enter() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        return; // Only root hands the cluster to the postgres user.
    }
    let home = std::env::temp_dir().join(format!("audit-private-home-{}", std::process::id()));
    let data = home.join("project/data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    let data_dir = data.to_str().unwrap().to_string();
    let env = [
        ("AUDIT_DATA_DIR", data_dir.as_str()),
        ("AUDIT_WORKER_IN_SERVE", "false"),
        ("AUDIT_DEMO_SIGN_IN", "true"),
    ];
    let link = data.join("postgres");
    let (code, _) = serve_then_terminate(&env, |port| {
        assert!(get(port, "/readyz").unwrap().starts_with("HTTP/1.1 200"));
    });
    assert_eq!(code, Some(0));
    assert!(link.is_symlink(), "the data folder links to the cluster");
    let real = std::fs::canonicalize(&link).unwrap();
    assert!(
        real.starts_with("/var/lib/audit-portal/"),
        "{}",
        real.display()
    );
    // The next start finds the same cluster through the link.
    let (code, _) = serve_then_terminate(&env, |port| {
        assert!(get(port, "/readyz").unwrap().starts_with("HTTP/1.1 200"));
    });
    assert_eq!(code, Some(0));
    assert_eq!(std::fs::canonicalize(&link).unwrap(), real);
    assert!(
        !real.join("pgdata/postmaster.pid").exists(),
        "stopped with the portal"
    );
    std::fs::remove_dir_all(&real).ok();
    std::fs::remove_dir_all(&home).ok();
}

fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-tAc", sql])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn import_phase_prints_what_it_understood_and_dry_run_writes_nothing(db: sqlx::PgPool) {
    let name = db.connect_options().get_database().unwrap().to_string();
    let base = std::env::var("DATABASE_URL").unwrap();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let dir = std::env::temp_dir().join(format!("import-phase-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plan = dir.join("PHASE-05.md");
    std::fs::write(
        &plan,
        "# PHASE-05 Backups\n**Target Grade**: 85/100\n## Work\n- [x] repo\n- [ ] dump\n  - [ ] alert\n",
    )
    .unwrap();
    let plan = plan.to_str().unwrap();
    let phases = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM phases")
            .fetch_one(&db)
            .await
            .unwrap()
    };

    let (code, stdout, stderr) = run(&[], &["import-phase", plan, "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("PHASE-05 \"PHASE-05 Backups\": 3 checklist items (1 checked), 0 objectives, 0 success criteria; target grade 85.00"),
        "{stdout}"
    );
    assert!(stdout.contains("[ ]   Work › alert"), "{stdout}");
    assert!(stdout.contains("dry run: nothing written"));
    assert_eq!(phases().await, 0);

    let (code, stdout, stderr) = run(&[("DATABASE_URL", &url)], &["import-phase", plan]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("imported as PHASE-05"), "{stdout}");
    assert_eq!(phases().await, 1);

    let (code, _, stderr) = run(&[("DATABASE_URL", &url)], &["import-phase", plan]);
    assert_eq!(code, 1);
    assert!(stderr.contains("PHASE-05 exists already"), "{stderr}");

    let empty = dir.join("empty.md");
    std::fs::write(&empty, "").unwrap();
    let (code, _, stderr) = run(
        &[("DATABASE_URL", &url)],
        &["import-phase", empty.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("The plan is empty."), "{stderr}");
    assert_eq!(phases().await, 1);
    std::fs::remove_dir_all(&dir).ok();
}

#[sqlx::test(migrator = "audit_portal::db::MIGRATOR")]
async fn token_create_prints_the_secret_once_and_keeps_only_its_hash(db: sqlx::PgPool) {
    let name = db.connect_options().get_database().unwrap().to_string();
    let base = std::env::var("DATABASE_URL").unwrap();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let (code, stdout, stderr) = run(
        &[("DATABASE_URL", &url)],
        &[
            "token",
            "create",
            "--name",
            "nightly",
            "--scope",
            "heartbeat",
            "--expires-days",
            "30",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let secret = stdout.trim();
    assert!(
        secret.starts_with("apt_") && stdout.lines().count() == 1,
        "{stdout}"
    );
    let (hash, scopes, expires): (Vec<u8>, Vec<String>, bool) = sqlx::query_as(
        "SELECT secret_hash, scopes, expires_at > now() + interval '29 days' FROM api_tokens",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(hash, audit_portal::auth::tokens::hash(secret));
    assert_eq!((scopes, expires), (vec!["heartbeat".to_string()], true));
    let actor: String = sqlx::query_scalar("SELECT action FROM audit_log WHERE target = 'nightly'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(actor, "token.create");

    let (code, _, stderr) = run(
        &[("DATABASE_URL", &url)],
        &["token", "create", "--name", "nightly", "--scope", "read"],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("exists already"), "{stderr}");
    let (code, _, stderr) = run(
        &[("DATABASE_URL", &url)],
        &["token", "create", "--name", "x", "--scope", "admin"],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("'admin' is not a scope"), "{stderr}");
}
