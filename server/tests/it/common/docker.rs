//! Fixtures on the private Docker engine: containers created with the docker CLI, each test in
//! a compose project of its own, removed when the fleet is dropped (also on failure).

use std::process::Command;
use std::time::{Duration, Instant};

/// The private engine's socket, exported by `scripts/test`.
pub fn socket() -> String {
    std::env::var("AUDIT_TEST_DOCKER_SOCK")
        .expect("AUDIT_TEST_DOCKER_SOCK is not set: run these tests through scripts/test, which starts a private Docker engine")
}

pub const IMAGE: &str = "audit-test/busybox:1";
pub const IDLE: &[&str] = &["sh", "-c", "while true; do sleep 5; done"];

/// How to run one container: flags, image and command. Tests describe each service as
/// "a good one, except …", which keeps what each fixture breaks in plain sight.
#[derive(Clone, Debug)]
pub struct Spec {
    flags: Vec<(String, Option<String>)>,
    image: String,
    cmd: Vec<String>,
}

impl Spec {
    /// Passes every check: restart policy, health check, memory and CPU limits, versioned image.
    pub fn good() -> Spec {
        Spec {
            flags: vec![],
            image: IMAGE.into(),
            cmd: IDLE.iter().map(|s| s.to_string()).collect(),
        }
        .set("--restart", "unless-stopped")
        .set("--health-cmd", "true")
        .set("--health-interval", "1s")
        .set("--memory", "64m")
        .set("--cpus", "0.5")
    }

    /// Sets a flag's value, replacing an earlier one of the same flag.
    pub fn set(mut self, flag: &str, value: &str) -> Spec {
        self.flags.retain(|(f, _)| f != flag);
        self.flags.push((flag.into(), Some(value.into())));
        self
    }

    /// Adds a flag that may repeat (`--label`, `-p`, `-e`, `-v`) or takes no value (`--privileged`).
    pub fn add(mut self, flag: &str, value: Option<&str>) -> Spec {
        self.flags.push((flag.into(), value.map(Into::into)));
        self
    }

    pub fn label(self, label: &str) -> Spec {
        self.add("--label", Some(label))
    }

    pub fn without(mut self, flag: &str) -> Spec {
        self.flags.retain(|(f, _)| f != flag);
        self
    }

    pub fn image(mut self, image: &str) -> Spec {
        self.image = image.into();
        self
    }

    pub fn cmd(mut self, cmd: &[&str]) -> Spec {
        self.cmd = cmd.iter().map(|s| s.to_string()).collect();
        self
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec![];
        for (flag, value) in &self.flags {
            args.push(flag.clone());
            args.extend(value.clone());
        }
        args.push(self.image.clone());
        args.extend(self.cmd.clone());
        args
    }
}

pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .arg("-H")
        .arg(format!("unix://{}", socket()))
        .args(args)
        .output()
        .expect("running the docker CLI");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A compose project of containers; all of them are removed on drop.
pub struct Fleet {
    pub project: String,
}

impl Fleet {
    pub fn new(prefix: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        Fleet {
            project: format!("{prefix}{}{nanos}", std::process::id()),
        }
    }

    /// The service key the audit gives `service` of this fleet.
    pub fn key(&self, service: &str) -> String {
        format!("{}/{service}", self.project)
    }

    fn launch(&self, verb: &[&str], service: &str, spec: &Spec) -> String {
        let mut args: Vec<String> = verb.iter().map(|s| s.to_string()).collect();
        args.extend([
            "--network".to_string(),
            "none".into(),
            "--name".into(),
            format!("{}-{service}", self.project),
            "--label".into(),
            format!("com.docker.compose.project={}", self.project),
            "--label".into(),
            format!("com.docker.compose.service={service}"),
        ]);
        args.extend(spec.args());
        docker(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// `docker run -d` with the service's compose labels.
    pub fn run(&self, service: &str, spec: &Spec) -> String {
        self.launch(&["run", "-d"], service, spec)
    }

    /// `docker create`: the container exists but never starts.
    pub fn create(&self, service: &str, spec: &Spec) -> String {
        self.launch(&["create"], service, spec)
    }

    pub fn container(&self, service: &str) -> String {
        format!("{}-{service}", self.project)
    }

    /// Waits until the service's health check reports `status`.
    pub fn wait_health(&self, service: &str, status: &str) {
        wait_for(
            &self.container(service),
            "{{.State.Health.Status}}",
            |s| s == status,
            status,
        );
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let ids = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.project),
        ]);
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids);
            let _ = Command::new("docker")
                .arg("-H")
                .arg(format!("unix://{}", socket()))
                .args(args)
                .output();
        }
    }
}

/// Waits until `docker inspect -f FORMAT container` prints something `ok` accepts.
pub fn wait_for(container: &str, format: &str, ok: impl Fn(&str) -> bool, what: &str) {
    wait_for_within(container, format, ok, what, Duration::from_secs(60));
}

/// [`wait_for`] with a deadline of its own.
pub fn wait_for_within(
    container: &str,
    format: &str,
    ok: impl Fn(&str) -> bool,
    what: &str,
    limit: Duration,
) {
    let deadline = Instant::now() + limit;
    loop {
        let value = docker(&["inspect", "-f", format, container]);
        if ok(&value) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{container}: waited {} s for {what}, last value '{value}'",
            limit.as_secs()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Waits until a file in the container has `size` bytes: a fixture that fills memory (a tmpfs
/// file) is ready when the fill is done, not when its health check first passes.
pub fn wait_for_file_size(container: &str, path: &str, size: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = Command::new("docker")
            .args([
                "-H",
                &format!("unix://{}", socket()),
                "exec",
                container,
                "stat",
                "-c",
                "%s",
                path,
            ])
            .output()
            .expect("docker exec");
        let seen = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u64>()
            .ok();
        if seen == Some(size) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{container}: {path} did not reach {size} bytes in 60 s (last: {seen:?})"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Waits for the container's OOM kill. Once in a while (seen on a busy machine) the flag never
/// appears: the kernel killed a child of the shell, or the event was missed. Restarting the
/// container repeats the allocation, so a few attempts make the fixture reliable.
pub fn wait_for_oom_kill(container: &str) {
    for _ in 0..3 {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if docker(&["inspect", "-f", "{{.State.OOMKilled}}", container]) == "true" {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        // Running without the flag (a child was killed, or the event was missed), or exited
        // without it: either way, run the allocation again.
        docker(&["restart", "-t", "0", container]);
    }
    panic!("{container}: no OOM kill after three attempts");
}

/// A unix socket in front of the private engine that holds back the requests whose request line
/// contains a pattern (a Docker call that never answers), and forwards every other request.
pub struct StallingProxy {
    pub socket: std::path::PathBuf,
    stall: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl StallingProxy {
    pub async fn start(name: &str) -> StallingProxy {
        let socket = std::env::temp_dir().join(format!("{name}-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&socket);
        let listener = tokio::net::UnixListener::bind(&socket).expect("proxy socket");
        let stall = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
        let upstream = std::path::PathBuf::from(self::socket());
        let held = stall.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(forward(client, upstream.clone(), held.clone()));
            }
        });
        StallingProxy {
            socket,
            stall,
            task,
        }
    }

    /// From now on, requests whose request line contains `pattern` get no answer.
    pub fn stall(&self, pattern: Option<&str>) {
        *self.stall.lock().expect("lock") = pattern.map(String::from);
    }
}

impl Drop for StallingProxy {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// One connection, one request: the request goes upstream with `Connection: close`, so each
/// request is seen here by its request line (the worker's calls are GETs without a body).
async fn forward(
    mut client: tokio::net::UnixStream,
    upstream: std::path::PathBuf,
    stall: std::sync::Arc<std::sync::Mutex<Option<String>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let request_line = text.lines().next().unwrap_or_default().to_string();
    let pattern = stall.lock().expect("lock").clone();
    if pattern.is_some_and(|p| request_line.contains(&p)) {
        // Hold the connection open without an answer until the caller gives up.
        tokio::time::sleep(Duration::from_secs(120)).await;
        return;
    }
    let headers: Vec<&str> = text
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    let rewritten = format!("{}\r\nConnection: close\r\n\r\n", headers.join("\r\n"));
    let Ok(mut server) = tokio::net::UnixStream::connect(&upstream).await else {
        return;
    };
    if server.write_all(rewritten.as_bytes()).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}
