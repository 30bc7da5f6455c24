//! Killing `qnet serve` with SIGKILL in the middle of writes loses no committed
//! record and corrupts nothing: every case study the server answered 201 for is
//! there after a restart, and the store keeps working.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_qnet");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn token(dir: &std::path::Path, email: &str, roles: &[&str]) -> String {
    let mut c = Command::new(BIN);
    c.args(["token", "--email", email, "--data-dir"]).arg(dir);
    for r in roles {
        c.args(["--role", r]);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

async fn start(dir: &std::path::Path, port: u16) -> Child {
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--web-addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("QNET_LOG_LEVEL", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if reqwest::get(format!("http://127.0.0.1:{port}/health")).await.is_ok() {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("qnet serve did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_write_loses_no_committed_record() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let admin = token(dir.path(), "admin@qnet.test", &["admin"]);
    let mut server = start(dir.path(), port).await;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{base}/organisations"))
        .bearer_auth(&admin)
        .json(&json!({"name": "Leeds Teaching Hospitals", "type": "nhs", "email_domains": ["leedsth.nhs.uk"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let member = token(dir.path(), "jo@leedsth.nhs.uk", &[]);

    // Eight writers, as fast as they can, until the server dies under them.
    let mut writers = Vec::new();
    for w in 0..8 {
        let (client, base, member) = (client.clone(), base.clone(), member.clone());
        writers.push(tokio::spawn(async move {
            let mut committed = Vec::new();
            for i in 0.. {
                let body = json!({"title": format!("Writer {w} case {i}"), "body": "x".repeat(4000)});
                match client.post(format!("{base}/case-studies")).bearer_auth(&member).json(&body).send().await {
                    Ok(r) if r.status() == 201 => {
                        let v: Value = r.json().await.unwrap_or(Value::Null);
                        if let Some(id) = v["id"].as_str() {
                            committed.push(id.to_string());
                        }
                    }
                    _ => break,
                }
            }
            committed
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    let mut committed = Vec::new();
    for w in writers {
        committed.extend(w.await.unwrap());
    }
    assert!(committed.len() > 10, "only {} writes committed before the kill", committed.len());

    let mut server = start(dir.path(), port).await;
    for id in &committed {
        let r = client.get(format!("{base}/case-studies/{id}")).bearer_auth(&member).send().await.unwrap();
        assert_eq!(r.status(), 200, "committed case study {id} is missing after the kill");
    }
    // The member's list pages through every committed record, and writing still works.
    let mut listed = 0;
    let mut url = format!("{base}/me/case-studies?limit=100");
    loop {
        let page: Value = client.get(&url).bearer_auth(&member).send().await.unwrap().json().await.unwrap();
        listed += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("{base}/me/case-studies?limit=100&cursor={c}"),
            None => break,
        }
    }
    assert!(listed >= committed.len(), "listed {listed} of {} committed", committed.len());
    let r = client
        .post(format!("{base}/case-studies"))
        .bearer_auth(&member)
        .json(&json!({"title": "After", "body": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    server.kill().unwrap();
    server.wait().unwrap();
}
