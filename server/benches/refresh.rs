//! Benchmark: one refresh of the containers on the local engine, against the bare Docker calls
//! it makes (list + inspect + one-shot stats for each, all concurrent), measured in the same run.
//! `AUDIT_BENCH_CONTAINERS` containers (default 100), of which `AUDIT_BENCH_RUNNING` run (default
//! all; the others are only created, which costs the engine no process).
//!
//! Needs DATABASE_URL (a server where it may create a database) and AUDIT_TEST_DOCKER_SOCK with
//! the `audit-test/busybox:1` image; `scripts/bench-refresh` provides both. A plain binary
//! (harness = false) rather than a statistics framework: each sample takes about a second and
//! is dominated by the engine, so medians of a few runs are what matters.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark that cannot set up should stop

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use audit_portal::config::Settings;
use audit_portal::worker::Worker;
use bollard::Docker;
use bollard::query_parameters::{ListContainersOptions, LogsOptions, StatsOptions};
use futures::StreamExt;
use futures::future::join_all;

/// A count from the environment, else `default`.
fn count_from_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().expect("a whole number"))
        .unwrap_or(default)
}
const RUNS: usize = 7;
const PROJECT: &str = "bench";

fn docker_cli(sock: &str, args: &[&str]) -> String {
    let out = Command::new("docker")
        .arg("-H")
        .arg(format!("unix://{sock}"))
        .args(args)
        .output()
        .expect("docker CLI");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn remove_fleet(sock: &str) {
    let ids = docker_cli(
        sock,
        &[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={PROJECT}"),
        ],
    );
    let ids: Vec<&str> = ids.split_whitespace().collect();
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids);
        docker_cli(sock, &args);
    }
}

fn create_fleet(sock: &str, containers: usize, running: usize) {
    remove_fleet(sock);
    let numbers: Vec<usize> = (0..containers).collect();
    std::thread::scope(|scope| {
        for chunk in numbers.chunks(containers.div_ceil(10).max(1)) {
            scope.spawn(move || {
                for i in chunk {
                    let service = format!("com.docker.compose.service=svc{i:03}");
                    let project = format!("com.docker.compose.project={PROJECT}");
                    // `run -d` starts the container; `create` leaves it created.
                    let start: &[&str] = if *i < running {
                        &["run", "-d"]
                    } else {
                        &["create"]
                    };
                    docker_cli(
                        sock,
                        &[
                            start,
                            &[
                                "--network",
                                "none",
                                "--name",
                                &format!("bench-svc{i:03}"),
                                "--label",
                                &project,
                                "--label",
                                &service,
                                "--restart",
                                "unless-stopped",
                                "--memory",
                                "32m",
                                "--cpus",
                                "0.2",
                                "audit-test/busybox:1",
                                "sh",
                                "-c",
                                "while true; do echo tick; sleep 2; done",
                            ],
                        ]
                        .concat(),
                    );
                }
            });
        }
    });
}

/// The bare calls of one refresh, as concurrent as possible: list, then for each container
/// inspect and one-shot stats (and, with `logs`, the log tail).
async fn bare_calls(docker: &Docker, logs: bool) -> usize {
    let list = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            ..Default::default()
        }))
        .await
        .unwrap();
    let calls = list.iter().map(|c| {
        let id = c.id.clone().unwrap_or_default();
        async move {
            let inspect = docker.inspect_container(&id, None);
            let stats = async {
                docker
                    .stats(
                        &id,
                        Some(StatsOptions {
                            stream: false,
                            one_shot: true,
                        }),
                    )
                    .next()
                    .await;
            };
            let tail = async {
                if logs {
                    let options = LogsOptions {
                        stdout: true,
                        stderr: true,
                        tail: "1000".into(),
                        ..Default::default()
                    };
                    let mut s = docker.logs(&id, Some(options));
                    while s.next().await.is_some() {}
                }
            };
            let (i, _, _) = tokio::join!(inspect, stats, tail);
            i.is_ok()
        }
    });
    join_all(calls).await.into_iter().filter(|ok| *ok).count()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let sock = std::env::var("AUDIT_TEST_DOCKER_SOCK").expect("AUDIT_TEST_DOCKER_SOCK");
    let admin_url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let containers = count_from_env("AUDIT_BENCH_CONTAINERS", 100);
    let running = count_from_env("AUDIT_BENCH_RUNNING", containers);
    println!("creating {containers} containers ({running} running) on unix://{sock} ...");
    create_fleet(&sock, containers, running);
    let total = docker_cli(&sock, &["ps", "-aq"]).lines().count();

    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    sqlx::query("DROP DATABASE IF EXISTS audit_bench")
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query("CREATE DATABASE audit_bench")
        .execute(&admin)
        .await
        .unwrap();
    let bench_url = match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/audit_bench"),
        None => panic!("DATABASE_URL has no database name"),
    };
    let db = audit_portal::db::connect(&bench_url).await.unwrap();
    audit_portal::db::migrate(&db).await.unwrap();

    let env = vec![("AUDIT_ENGINES".to_string(), format!("local=unix://{sock}"))];
    let settings = Arc::new(Settings::load_from(None, &env).unwrap());
    let mut worker = Worker::new(db.clone(), settings);
    let docker = Docker::connect_with_unix(&sock, 30, bollard::API_DEFAULT_VERSION)
        .unwrap()
        .negotiate_version()
        .await
        .unwrap();

    // Warm-up: the first refresh inserts every service and reads all logs.
    worker.refresh_once().await.unwrap();
    bare_calls(&docker, true).await;

    let (mut bare, mut bare_logs, mut refresh) = (vec![], vec![], vec![]);
    for _ in 0..RUNS {
        let t = Instant::now();
        let n = bare_calls(&docker, false).await;
        bare.push(t.elapsed());
        assert_eq!(n, total);
        let t = Instant::now();
        bare_calls(&docker, true).await;
        bare_logs.push(t.elapsed());
        let report = worker.refresh_once().await.unwrap();
        assert_eq!(report.failed_engines, 0);
        refresh.push(report.duration);
    }
    let (bare, bare_logs, refresh) = (median(bare), median(bare_logs), median(refresh));
    println!("containers on the engine:                   {total}");
    println!(
        "bare calls (list + inspect + one-shot stats): {} (median of {RUNS})",
        ms(bare)
    );
    println!(
        "bare calls plus log tails:                   {}",
        ms(bare_logs)
    );
    println!(
        "refresh_once (calls + audit + Postgres):     {}",
        ms(refresh)
    );
    println!(
        "refresh / bare calls:                        {:.2}x",
        refresh.as_secs_f64() / bare.as_secs_f64()
    );
    println!(
        "refresh / bare calls with logs:              {:.2}x",
        refresh.as_secs_f64() / bare_logs.as_secs_f64()
    );

    db.close().await;
    sqlx::query("DROP DATABASE IF EXISTS audit_bench WITH (FORCE)")
        .execute(&admin)
        .await
        .unwrap();
    remove_fleet(&sock);
}
