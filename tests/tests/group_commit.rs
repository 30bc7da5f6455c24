//! Group commit on the embedded store (issue 24): concurrent writers share
//! one transaction and its fsync, and still nothing acknowledged is lost and
//! no transaction is half-written when the process is killed (SIGKILL)
//! mid-stream; each write keeps its own outcome inside a shared commit.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use qnet_embedded::EmbeddedRecordStore;
use qnet_ports::{Condition, Item, Query, RecordStore, StoreError, Write};
use serde_json::json;

/// Acknowledged writes to see before the kill: enough to span many batches.
const ACKS_BEFORE_KILL: usize = 3_000;

#[tokio::test]
async fn nothing_acknowledged_is_lost_when_the_writer_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_store-writer"))
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the writer starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let mut acked: Vec<(u32, u64)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.len() < ACKS_BEFORE_KILL && Instant::now() < deadline {
        let line = lines.next().expect("the writer is still writing").unwrap();
        acked.push(parse_ack(&line));
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    // Lines already written before the kill were acknowledged too.
    for line in lines {
        match line {
            Ok(l) if l.starts_with("ack ") => acked.push(parse_ack(&l)),
            _ => break,
        }
    }
    assert!(acked.len() >= ACKS_BEFORE_KILL, "only {} writes were acknowledged", acked.len());

    let store = EmbeddedRecordStore::open(dir.path()).unwrap();
    for (w, n) in &acked {
        assert!(
            store.get(&format!("W#{w}"), &format!("E#{n:09}")).await.unwrap().is_some(),
            "writer {w}'s entry {n} was acknowledged and is gone"
        );
    }
    // Each transaction is whole: every writer's counter equals its entries.
    for w in 0..32 {
        let entries = all(&store, &format!("W#{w}"), "E#").await;
        let count = store.get(&format!("W#{w}"), "COUNT").await.unwrap().unwrap().data["n"].as_u64().unwrap();
        assert_eq!(entries as u64, count, "writer {w}: a transaction was half-written");
    }
}

fn parse_ack(line: &str) -> (u32, u64) {
    let mut parts = line.split(' ');
    assert_eq!(parts.next(), Some("ack"), "{line}");
    (parts.next().unwrap().parse().unwrap(), parts.next().unwrap().parse().unwrap())
}

async fn all(store: &dyn RecordStore, pk: &str, prefix: &str) -> usize {
    let mut n = 0;
    let mut cursor = None;
    loop {
        let page =
            store.query(Query::new(qnet_ports::Index::Primary, pk).prefix(prefix).limit(1000).after(cursor)).await.unwrap();
        n += page.items.len();
        match page.next {
            Some(c) => cursor = Some(c),
            None => return n,
        }
    }
}

/// Writes that share a commit keep their own outcomes: one whose condition
/// fails changes nothing and the others land, whichever batch they fall in.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_keep_their_own_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedRecordStore::open(dir.path()).unwrap());
    store.put(Item::new("SEAT", "COUNT", json!({"taken": 0})), Condition::NotExists).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..64u32 {
        let store = store.clone();
        tasks.spawn(async move {
            // Two writers race for each key; a bounded counter lets 20 of 64 in.
            let claim = store.put(Item::new(format!("K#{}", i / 2), "META", json!({"by": i})), Condition::NotExists).await;
            let seat = store
                .transact(vec![
                    Write::Put { item: Item::new("SEATED", format!("{i:02}"), json!({})), condition: Condition::NotExists },
                    Write::Increment {
                        pk: "SEAT".into(),
                        sk: "COUNT".into(),
                        field: "taken".into(),
                        by: 1,
                        at_least: None,
                        at_most: Some(20),
                    },
                ])
                .await;
            (claim, seat)
        });
    }
    let (mut claimed, mut refused, mut seated, mut full) = (0, 0, 0, 0);
    while let Some(r) = tasks.join_next().await {
        let (claim, seat) = r.unwrap();
        match claim {
            Ok(()) => claimed += 1,
            Err(StoreError::ConditionFailed) => refused += 1,
            Err(e) => panic!("{e:?}"),
        }
        match seat {
            Ok(()) => seated += 1,
            Err(e) if e.is_conflict() => full += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!((claimed, refused), (32, 32), "one writer per key wins");
    assert_eq!((seated, full), (20, 44), "the bound holds across shared commits");
    assert_eq!(all(store.as_ref(), "SEATED", "").await, 20, "a refused transaction left nothing behind");
    assert_eq!(store.get("SEAT", "COUNT").await.unwrap().unwrap().data["taken"], json!(20));
    for k in 0..32 {
        assert!(store.get(&format!("K#{k}"), "META").await.unwrap().is_some());
    }
}
