//! The service loop: health and metrics endpoints, reload, clean stop (library and binary).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use veille::config::Config;
use veille::pipeline::Pipeline;
use veille::service::{self, Signal};
use veille::store::Store;

use super::poll::write_config;
use super::server::TestServer;

/// Polls `cond` every 20 ms until it holds, failing after `secs` seconds.
async fn eventually(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_reload_and_stop() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        &server,
        &[("rss2", "/feeds/rss2.xml"), ("down", "/status/500")],
    );
    let config = Config::from_file(&path).unwrap();
    let store = Store::open(&config.storage.database).unwrap();
    let svc = service::service(
        Pipeline::new(&config, store).unwrap(),
        Some(path.clone()),
        None,
    );
    let (tx, rx) = watch::channel(None);
    let (addr, http) = service::http::bind(
        "127.0.0.1:0".parse().unwrap(),
        svc.clone(),
        None,
        service::stopped(rx.clone()),
    )
    .await
    .unwrap();
    let http = tokio::spawn(http);
    let runner = {
        let svc = Arc::clone(&svc);
        tokio::spawn(async move { service::run(&svc, Duration::from_millis(50), rx).await })
    };

    eventually(10, "the first poll", || svc.last_poll().is_some()).await;
    let health: serde_json::Value = serde_json::from_str(
        &reqwest::get(format!("http://{addr}/health"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(health["feeds"]["total"], 2, "{health}");
    assert_eq!(health["feeds"]["ok"], 1, "{health}");
    assert_eq!(
        health["status"], "ok",
        "one error is not yet failing: {health}"
    );
    assert!(health["last_poll"].is_string(), "{health}");
    let metrics = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("veille_fetches_total{outcome=\"updated\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("veille_fetches_total{outcome=\"failed\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("veille_new_items_total 3"), "{metrics}");

    // Reload: a new feed is picked up without a restart; a broken file is refused.
    std::fs::write(&path, "not toml = = =").unwrap();
    tx.send(Some(Signal::Reload)).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    write_config(
        dir.path(),
        &server,
        &[("rss2", "/feeds/rss2.xml"), ("json", "/feeds/feed.json")],
    );
    tx.send(Some(Signal::Reload)).unwrap();
    eventually(10, "the reloaded feed to be polled", || {
        !server.seen("/feeds/feed.json").is_empty()
    })
    .await;
    let feeds = svc.pipeline.store().feeds().unwrap();
    assert!(
        !feeds.iter().find(|f| f.name == "down").unwrap().enabled,
        "removed feed disabled"
    );

    tx.send(Some(Signal::Stop)).unwrap();
    tokio::time::timeout(Duration::from_secs(15), runner)
        .await
        .expect("the service stops within the grace period")
        .unwrap()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), http)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reloads_on_sighup_and_stops_on_sigterm() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &server, &[("rss2", "/feeds/rss2.xml")]);
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_veille"))
        .args(["--config", path.to_str().unwrap(), "run", "--tick", "100ms"])
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap().to_string();
    eventually(20, "the first poll", || {
        !server.seen("/feeds/rss2.xml").is_empty()
    })
    .await;
    write_config(
        dir.path(),
        &server,
        &[("rss2", "/feeds/rss2.xml"), ("atom", "/feeds/atom.xml")],
    );
    let kill = |sig: &str| {
        std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
    };
    assert!(kill("-HUP").success());
    eventually(20, "the feed added by reload", || {
        !server.seen("/feeds/atom.xml").is_empty()
    })
    .await;
    assert!(kill("-TERM").success());
    let out = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
        .await
        .expect("stops within the grace period")
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("configuration reloaded"), "{log}");
    assert!(log.contains("service stopped"), "{log}");
}
