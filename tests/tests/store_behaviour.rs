//! The store behaviour suite: one set of checks, run against the embedded
//! adapters (SQLite and files, a temp dir per test) and the AWS adapters (moto).
//!
//! The application is written once against `qnet-ports`; these tests are what
//! make "it works locally" mean "it works on DynamoDB and S3". Moto tests need
//! `QNET_MOTO_ENDPOINT` (set by `scripts/test`, or `eval "$(scripts/moto-up)"`)
//! and fail, rather than skip, without it. They reset moto, so nextest runs them
//! one at a time (`.config/nextest.toml`, group `moto`); under plain `cargo
//! test` a lock in this file serialises them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use qnet_aws::aws_config::SdkConfig;
use qnet_aws::{DynamoRecordStore, S3BlobStore, from_env};
use qnet_embedded::{EmbeddedBlobStore, EmbeddedRecordStore};
use qnet_ports::{BlobError, BlobStore, Condition, Cursor, Index, Item, Page, Query, RecordStore, StoreError, UploadSpec, Write};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------
// Record store behaviour
// ---------------------------------------------------------------------------

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_secs() as i64
}

async fn create_if_absent(store: &dyn RecordStore) {
    let first = Item::new("CS#1", "META", json!({"title": "first"}));
    store.put(first.clone(), Condition::NotExists).await.unwrap();
    let second = Item::new("CS#1", "META", json!({"title": "second"})).with_version(9);
    let err = store.put(second, Condition::NotExists).await.unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed), "{err:?}");
    assert_eq!(store.get("CS#1", "META").await.unwrap(), Some(first), "a failed put changes nothing");
    assert_eq!(store.get("CS#1", "OTHER").await.unwrap(), None);
}

async fn version_conflicts(store: &dyn RecordStore) {
    store.put(Item::new("CS#2", "META", json!({"n": 1})), Condition::NotExists).await.unwrap();
    let v2 = Item::new("CS#2", "META", json!({"n": 2})).with_version(2);
    store.put(v2.clone(), Condition::VersionIs(1)).await.unwrap();

    let stale = Item::new("CS#2", "META", json!({"n": 3})).with_version(2);
    let err = store.put(stale, Condition::VersionIs(1)).await.unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed), "{err:?}");
    assert_eq!(store.get("CS#2", "META").await.unwrap(), Some(v2));

    let err = store.delete("CS#2", "META", Condition::VersionIs(1)).await.unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    let err = store.put(Item::new("CS#none", "META", json!({})), Condition::VersionIs(1)).await.unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed), "VersionIs on a missing item: {err:?}");
    assert_eq!(store.get("CS#none", "META").await.unwrap(), None);

    store.delete("CS#2", "META", Condition::VersionIs(2)).await.unwrap();
    assert_eq!(store.get("CS#2", "META").await.unwrap(), None);
}

async fn exists_condition(store: &dyn RecordStore) {
    let err = store.put(Item::new("M#1", "P", json!({})), Condition::Exists).await.unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed), "{err:?}");
    assert_eq!(store.get("M#1", "P").await.unwrap(), None);
    let err = store.delete("M#1", "P", Condition::Exists).await.unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed), "{err:?}");

    store.put(Item::new("M#1", "P", json!({"a": 1})), Condition::None).await.unwrap();
    let updated = Item::new("M#1", "P", json!({"a": 2})).with_version(5);
    store.put(updated.clone(), Condition::Exists).await.unwrap();
    assert_eq!(store.get("M#1", "P").await.unwrap(), Some(updated));
    store.delete("M#1", "P", Condition::Exists).await.unwrap();
    assert_eq!(store.get("M#1", "P").await.unwrap(), None);
    // Unconditional delete of a missing item is not an error (as in DynamoDB).
    store.delete("M#1", "P", Condition::None).await.unwrap();
}

async fn transactions_are_all_or_nothing(store: &dyn RecordStore) {
    let a = Item::new("T#A", "META", json!({"a": 1}));
    let d = Item::new("T#D", "META", json!({"d": 1}));
    store.put(a.clone(), Condition::NotExists).await.unwrap();
    store.put(d.clone(), Condition::NotExists).await.unwrap();

    let writes = |check_b: Condition| {
        vec![
            Write::Put { item: Item::new("T#C", "META", json!({"c": 1})), condition: Condition::NotExists },
            Write::Put { item: Item::new("T#A", "META", json!({"a": 2})).with_version(2), condition: Condition::VersionIs(1) },
            Write::Check { pk: "T#B".into(), sk: "META".into(), condition: check_b },
            Write::Delete { pk: "T#D".into(), sk: "META".into(), condition: Condition::Exists },
        ]
    };
    let err = store.transact(writes(Condition::Exists)).await.unwrap_err();
    assert!(matches!(err, StoreError::TransactionConflict { index: Some(2) }), "{err:?}");
    assert_eq!(store.get("T#A", "META").await.unwrap(), Some(a), "A untouched");
    assert_eq!(store.get("T#C", "META").await.unwrap(), None, "C not created");
    assert_eq!(store.get("T#D", "META").await.unwrap(), Some(d), "D not deleted");

    store.transact(writes(Condition::NotExists)).await.unwrap();
    assert_eq!(store.get("T#A", "META").await.unwrap().unwrap().version, 2);
    assert!(store.get("T#C", "META").await.unwrap().is_some());
    assert_eq!(store.get("T#D", "META").await.unwrap(), None);

    // The failing write is reported by position, whichever it is.
    let err = store
        .transact(vec![
            Write::Put { item: Item::new("T#A", "META", json!({})).with_version(3), condition: Condition::VersionIs(1) },
            Write::Put { item: Item::new("T#E", "META", json!({})), condition: Condition::NotExists },
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TransactionConflict { index: Some(0) }), "{err:?}");
    assert_eq!(store.get("T#E", "META").await.unwrap(), None);
    store.transact(Vec::new()).await.unwrap();
}

async fn expired_items_are_gone(store: &dyn RecordStore) {
    let expired = Item::new("TTL#1", "SESSION", json!({"s": 1})).with_gsi1("TTLS", "A").expiring_at(now() - 5);
    let live = Item::new("TTL#1", "SESSION2", json!({"s": 2})).with_gsi1("TTLS", "B").expiring_at(now() + 3600);
    store.put(expired, Condition::None).await.unwrap();
    store.put(live.clone(), Condition::None).await.unwrap();

    assert_eq!(store.get("TTL#1", "SESSION").await.unwrap(), None);
    let page = store.query(Query::new(Index::Primary, "TTL#1")).await.unwrap();
    assert_eq!(page.items, vec![live.clone()]);
    let page = store.query(Query::new(Index::Gsi1, "TTLS")).await.unwrap();
    assert_eq!(page.items, vec![live]);

    // An expired item counts as absent for conditions.
    let err = store.delete("TTL#1", "SESSION", Condition::Exists).await.unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed), "{err:?}");
    let again = Item::new("TTL#1", "SESSION", json!({"s": 3}));
    store.put(again.clone(), Condition::NotExists).await.unwrap();
    assert_eq!(store.get("TTL#1", "SESSION").await.unwrap(), Some(again));
}

/// A store bound to a clock judges expiry by that clock, not the real time:
/// an app stopped in the past still sees what expires after its "now", and an
/// app in the future does not see what expired before it. Dates are relative
/// to a fixed moment, never to today.
async fn expiry_follows_the_bound_clock(store: &dyn RecordStore) {
    let base = time::macros::datetime!(2026-11-20 09:00 UTC);
    let at = |t: time::OffsetDateTime| store.at_clock(std::sync::Arc::new(qnet_ports::FixedClock(t)));
    let then = at(base);
    let item =
        Item::new("CLOCK#1", "EVENT", json!({"e": 1})).with_gsi1("CLOCKS", "A").expiring_at(base.unix_timestamp() + 86_400);
    then.put(item.clone(), Condition::NotExists).await.unwrap();
    assert_eq!(then.get("CLOCK#1", "EVENT").await.unwrap(), Some(item.clone()), "live a day before it expires");
    assert_eq!(then.query(Query::new(Index::Gsi1, "CLOCKS")).await.unwrap().items, vec![item.clone()]);
    // Far in the past or the future of the real date, the bound clock decides.
    let long_ago = at(time::macros::datetime!(2001-01-01 00:00 UTC));
    assert_eq!(long_ago.get("CLOCK#1", "EVENT").await.unwrap(), Some(item.clone()));
    let later = at(base + time::Duration::days(2));
    assert_eq!(later.get("CLOCK#1", "EVENT").await.unwrap(), None, "gone a day after it expired");
    assert!(later.query(Query::new(Index::Gsi1, "CLOCKS")).await.unwrap().items.is_empty());
    let err = later.delete("CLOCK#1", "EVENT", Condition::Exists).await.unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed), "an expired item is absent for conditions: {err:?}");
    later.put(Item::new("CLOCK#1", "EVENT", json!({"e": 2})), Condition::NotExists).await.unwrap();
}

async fn get_many_answers_in_order(store: &dyn RecordStore) {
    let a = Item::new("MANY#1", "A", json!({"n": 1}));
    let b = Item::new("MANY#2", "B", json!({"n": 2})).with_gsi1("MANYS", "B");
    let gone = Item::new("MANY#3", "C", json!({"n": 3})).expiring_at(now() - 5);
    for item in [a.clone(), b.clone(), gone] {
        store.put(item, Condition::None).await.unwrap();
    }
    let keys: Vec<(String, String)> = [("MANY#2", "B"), ("MANY#9", "X"), ("MANY#1", "A"), ("MANY#3", "C")]
        .iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect();
    assert_eq!(
        store.get_many(&keys).await.unwrap(),
        vec![Some(b), None, Some(a), None],
        "in the order asked; absent and expired as None"
    );
    assert_eq!(store.get_many(&[]).await.unwrap(), vec![]);
}

/// Reads every page; checks each is at most `limit` long and that `next` is set
/// exactly when more items follow.
async fn all_pages(store: &dyn RecordStore, query: Query) -> Vec<Item> {
    let limit = query.limit as usize;
    let mut cursor = None;
    let mut items = Vec::new();
    for _ in 0..1000 {
        let Page { items: page, next } = store.query(query.clone().after(cursor)).await.unwrap();
        assert!(page.len() <= limit, "page of {} > limit {limit}", page.len());
        let full = page.len() == limit;
        items.extend(page);
        match next {
            Some(next) => {
                assert!(full, "a page with a next cursor is full");
                // Cursors travel through clients as text.
                cursor = Some(Cursor::decode(&next.encode()).unwrap());
            }
            None => return items,
        }
    }
    panic!("pagination did not end");
}

fn keys(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| format!("{}|{}", i.pk, i.sk)).collect()
}

async fn pagination_on_every_index(store: &dyn RecordStore) {
    // 23 items in one partition, with GSI1 keys in a different order than the
    // primary, GSI2 keys with ties (broken by pk, sk), a few expired items mixed
    // in, and noise in other partitions and under other prefixes.
    let mut expected = Vec::new();
    for i in 0..26u32 {
        let mut item = Item::new("LIST#1", format!("ITEM#{i:03}"), json!({"i": i}))
            .with_gsi1("G1#1", format!("T#{:03}", (i * 7) % 26))
            .with_gsi2("G2#1", format!("S#{}", i % 4));
        if i % 9 == 4 {
            item = item.expiring_at(now() - 60);
        } else {
            expected.push(item.clone());
        }
        store.put(item, Condition::None).await.unwrap();
    }
    for i in 0..5u32 {
        let other = Item::new("LIST#2", format!("ITEM#{i:03}"), json!({}))
            .with_gsi1("G1#2", format!("T#{i:03}"))
            .with_gsi2("G2#1", format!("R#{i}"));
        store.put(other, Condition::None).await.unwrap();
        store.put(Item::new("LIST#1", format!("NOTE#{i:03}"), json!({})), Condition::None).await.unwrap();
    }
    assert_eq!(expected.len(), 23);

    let by_primary = {
        let mut v = expected.clone();
        v.sort_by(|a, b| a.sk.cmp(&b.sk));
        v
    };
    let by_gsi1 = {
        let mut v = expected.clone();
        v.sort_by(|a, b| a.gsi1.as_ref().unwrap().sk.cmp(&b.gsi1.as_ref().unwrap().sk));
        v
    };
    let by_gsi2 = {
        let mut v = expected.clone();
        v.sort_by(|a, b| (&a.gsi2.as_ref().unwrap().sk, &a.pk, &a.sk).cmp(&(&b.gsi2.as_ref().unwrap().sk, &b.pk, &b.sk)));
        v
    };

    for (query, want) in [
        (Query::new(Index::Primary, "LIST#1").prefix("ITEM#"), by_primary),
        (Query::new(Index::Gsi1, "G1#1"), by_gsi1),
        (Query::new(Index::Gsi2, "G2#1").prefix("S#"), by_gsi2),
    ] {
        for limit in [1, 5, 7, 23, 100] {
            let got = all_pages(store, query.clone().limit(limit)).await;
            assert_eq!(keys(&got), keys(&want), "{:?} ascending, limit {limit}", query.index);
            let got = all_pages(store, query.clone().limit(limit).descending()).await;
            let mut reversed = want.clone();
            reversed.reverse();
            assert_eq!(keys(&got), keys(&reversed), "{:?} descending, limit {limit}", query.index);
        }
        assert_eq!(all_pages(store, query.clone()).await, want, "items come back whole");
    }
}

/// `query_raw` answers each page as `query` does: the same items' data as JSON
/// text, in the same order, and the same cursor to the next page.
async fn raw_pages_match_query(store: &dyn RecordStore) {
    for i in 0..12u32 {
        let item = Item::new("RAW#1", format!("ITEM#{i:03}"), json!({"i": i, "name": format!("é {i}"), "tags": ["a", i]}))
            .with_gsi1("RG1", format!("T#{:03}", (i * 5) % 12))
            .with_gsi2("RG2", format!("S#{}", i % 3));
        let item = if i == 7 { item.expiring_at(now() - 60) } else { item };
        store.put(item, Condition::None).await.unwrap();
    }
    for query in [
        Query::new(Index::Primary, "RAW#1").prefix("ITEM#").limit(4),
        Query::new(Index::Gsi1, "RG1").limit(5).descending(),
        Query::new(Index::Gsi2, "RG2").limit(3),
    ] {
        let mut cursor = None;
        let mut seen = 0;
        for _ in 0..20 {
            let page = store.query(query.clone().after(cursor.clone())).await.unwrap();
            let raw = store.query_raw(query.clone().after(cursor.clone())).await.unwrap();
            let texts: Vec<serde_json::Value> = raw.items.iter().map(|t| serde_json::from_str(t).unwrap()).collect();
            let data: Vec<serde_json::Value> = page.items.iter().map(|i| i.data.clone()).collect();
            assert_eq!(texts, data, "{:?}: the same items, in order", query.index);
            assert_eq!(raw.next, page.next, "{:?}: the same next cursor", query.index);
            seen += data.len();
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, 11, "{:?}: every live item once, the expired one left out", query.index);
    }
    let empty = store.query_raw(Query::new(Index::Primary, "RAW#none")).await.unwrap();
    assert!(empty.items.is_empty() && empty.next.is_none());
}

async fn prefix_filtering(store: &dyn RecordStore) {
    for sk in ["ATT#1", "ATT#2", "ATTACH", "AT", "B", "COMMENT#1", "ATT#3#x"] {
        store.put(Item::new("CS#9", sk, json!({})).with_gsi2("CS9", sk), Condition::None).await.unwrap();
    }
    let page = store.query(Query::new(Index::Primary, "CS#9").prefix("ATT#")).await.unwrap();
    assert_eq!(keys(&page.items), ["CS#9|ATT#1", "CS#9|ATT#2", "CS#9|ATT#3#x"]);
    assert!(page.next.is_none());
    let page = store.query(Query::new(Index::Gsi2, "CS9").prefix("ATT").descending()).await.unwrap();
    assert_eq!(keys(&page.items), ["CS#9|ATTACH", "CS#9|ATT#3#x", "CS#9|ATT#2", "CS#9|ATT#1"]);
    let page = store.query(Query::new(Index::Primary, "CS#9").prefix("Z")).await.unwrap();
    assert!(page.items.is_empty() && page.next.is_none());
    let page = store.query(Query::new(Index::Primary, "CS#nothing")).await.unwrap();
    assert!(page.items.is_empty() && page.next.is_none());
}

async fn foreign_cursors_are_refused(store: &dyn RecordStore) {
    for i in 0..3 {
        for pk in ["A", "B"] {
            let item = Item::new(pk, format!("X#{i}"), json!({})).with_gsi1(format!("G{pk}"), format!("X#{i}"));
            store.put(item, Condition::None).await.unwrap();
        }
    }
    let primary = store.query(Query::new(Index::Primary, "A").limit(1)).await.unwrap().next.unwrap();
    let gsi1 = store.query(Query::new(Index::Gsi1, "GA").limit(1)).await.unwrap().next.unwrap();
    assert_eq!(primary, Cursor { pk: "A".into(), sk: "X#0".into(), ipk: None, isk: None });
    assert_eq!(gsi1, Cursor { pk: "A".into(), sk: "X#0".into(), ipk: Some("GA".into()), isk: Some("X#0".into()) });

    for (query, cursor) in [
        (Query::new(Index::Primary, "B"), &primary),
        (Query::new(Index::Gsi1, "GB"), &gsi1),
        (Query::new(Index::Gsi1, "GA"), &primary),
        (Query::new(Index::Primary, "A"), &gsi1),
        (Query::new(Index::Gsi2, "GA"), &primary),
        (Query::new(Index::Primary, "A").prefix("Y#"), &primary),
    ] {
        let err = store.query(query.clone().after(Some(cursor.clone()))).await.unwrap_err();
        assert!(matches!(err, StoreError::BadCursor), "{query:?}: {err:?}");
    }
    // The right partition resumes after the cursor.
    let page = store.query(Query::new(Index::Primary, "A").after(Some(primary))).await.unwrap();
    assert_eq!(keys(&page.items), ["A|X#1", "A|X#2"]);
}

async fn json_round_trips(store: &dyn RecordStore) {
    let data = json!({
        "string": "héllo \"quoted\" \n line",
        "empty": "",
        "int": 42,
        "negative": -7,
        "zero": 0,
        "big": 9_007_199_254_740_993u64,
        "u64max": u64::MAX,
        "i64min": i64::MIN,
        "float": 3.25,
        "small": 0.000_123,
        "bools": [true, false],
        "null": null,
        "array": [1, "two", null, {"three": [3]}, [], {}],
        "empty_array": [],
        "empty_object": {},
        "nested": {"deeper": {"deepest": {"list": ["", "x"]}}},
        "unicode": "日本語 ✓ 😀",
    });
    let item = Item::new("JSON#1", "DOC", data.clone()).with_gsi1("JSON", "1").with_version(3);
    store.put(item.clone(), Condition::NotExists).await.unwrap();
    assert_eq!(store.get("JSON#1", "DOC").await.unwrap(), Some(item.clone()));
    let page = store.query(Query::new(Index::Gsi1, "JSON")).await.unwrap();
    assert_eq!(page.items, vec![item]);

    // Non-object documents and a null document survive too.
    for (sk, value) in [("ARR", json!([1, 2, 3])), ("STR", json!("")), ("NULL", Value::Null)] {
        let item = Item::new("JSON#1", sk, value);
        store.put(item.clone(), Condition::None).await.unwrap();
        assert_eq!(store.get("JSON#1", sk).await.unwrap(), Some(item));
    }

    // DynamoDB keeps numbers as decimals, so a float with an integral value comes
    // back as an integer; the embedded store does the same, so code cannot come
    // to rely on the difference locally.
    store.put(Item::new("JSON#1", "FLOAT", json!({"f": 2.0, "g": -0.0})), Condition::None).await.unwrap();
    let back = store.get("JSON#1", "FLOAT").await.unwrap().unwrap().data;
    assert_eq!(back, json!({"f": 2, "g": 0}));
}

// ---------------------------------------------------------------------------
// Blob store behaviour
// ---------------------------------------------------------------------------

fn sample_bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed).collect()
}

fn sha256_base64(bytes: &[u8]) -> String {
    BASE64.encode(Sha256::digest(bytes))
}

async fn send(url: &qnet_ports::PresignedUrl, body: Option<Vec<u8>>) -> reqwest::Response {
    let client = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(url.method.as_bytes()).unwrap();
    let mut request = client.request(method, &url.url);
    for (name, value) in &url.headers {
        // reqwest sets Content-Length from the body itself.
        if !name.eq_ignore_ascii_case("content-length") {
            request = request.header(name, value);
        }
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    request.send().await.unwrap()
}

async fn blobs_basic(store: &dyn BlobStore) {
    store.put("docs/a.txt", b"alpha".to_vec(), "text/plain").await.unwrap();
    assert_eq!(store.get("docs/a.txt").await.unwrap(), b"alpha");
    let meta = store.head("docs/a.txt").await.unwrap().unwrap();
    assert_eq!((meta.size, meta.content_type.as_deref()), (5, Some("text/plain")));

    store.copy("docs/a.txt", "docs/b.txt").await.unwrap();
    assert_eq!(store.get("docs/b.txt").await.unwrap(), b"alpha");
    assert_eq!(store.head("docs/b.txt").await.unwrap().unwrap().content_type.as_deref(), Some("text/plain"));

    store.delete("docs/a.txt").await.unwrap();
    assert_eq!(store.head("docs/a.txt").await.unwrap(), None);
    assert!(matches!(store.get("docs/a.txt").await, Err(BlobError::NotFound)));
    assert!(matches!(store.copy("docs/a.txt", "docs/c.txt").await, Err(BlobError::NotFound)));
    store.delete("docs/a.txt").await.unwrap();
}

/// Upload through a presigned URL, then download through another; with
/// `refuses_wrong_bytes`, also check that other bytes of the same length are
/// refused (see the moto test for why that is not checked there).
async fn blobs_presigned(store: &dyn BlobStore, refuses_wrong_bytes: bool) {
    let bytes = sample_bytes(150_000, 1);
    let spec = UploadSpec {
        key: "uploads/CS1/ATT1".into(),
        content_type: "application/pdf".into(),
        size: bytes.len() as u64,
        sha256_base64: sha256_base64(&bytes),
        expires_in: Duration::from_secs(300),
    };
    let put = store.presign_put(&spec).await.unwrap();
    assert_eq!(put.method, "PUT");
    let header = |name: &str| put.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(header("content-type"), Some("application/pdf"), "{:?}", put.headers);
    assert_eq!(header("x-amz-checksum-sha256"), Some(spec.sha256_base64.as_str()), "{:?}", put.headers);
    assert!(put.expires_at > now() + 200 && put.expires_at <= now() + 301);

    if refuses_wrong_bytes {
        let mut wrong = bytes.clone();
        wrong[1000] ^= 0xff;
        let refused = send(&put, Some(wrong)).await;
        assert_eq!(refused.status(), reqwest::StatusCode::BAD_REQUEST, "{}", refused.text().await.unwrap());
        assert_eq!(store.head(&spec.key).await.unwrap(), None, "refused bytes are not stored");
    }

    let sent = send(&put, Some(bytes.clone())).await;
    assert!(sent.status().is_success(), "{}: {}", sent.status(), sent.text().await.unwrap());
    let meta = store.head(&spec.key).await.unwrap().unwrap();
    assert_eq!((meta.size, meta.content_type.as_deref()), (bytes.len() as u64, Some("application/pdf")));
    assert_eq!(store.get(&spec.key).await.unwrap(), bytes);

    let get = store.presign_get(&spec.key, "Audit report 2024.pdf", Duration::from_secs(60)).await.unwrap();
    let got = send(&get, None).await;
    assert!(got.status().is_success(), "{}", got.status());
    let disposition = got.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment;") && disposition.contains("Audit report 2024.pdf"), "{disposition}");
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
}

// ---------------------------------------------------------------------------
// Embedded instantiation
// ---------------------------------------------------------------------------

/// A directory removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let dir =
            std::env::temp_dir().join(format!("qnet-store-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Serves the local runner's blob route the way `qnet serve` does, so the
/// embedded store's presigned URLs are exercised over real HTTP.
async fn embedded_blobs(dir: &TempDir) -> EmbeddedBlobStore {
    use axum::body::Bytes;
    use axum::extract::{Path, RawQuery, State};
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::{IntoResponse, Response};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let store = EmbeddedBlobStore::open(&dir.0, [42; 32], base_url).unwrap();

    async fn upload(
        State(store): State<EmbeddedBlobStore>,
        Path(key): Path<String>,
        RawQuery(query): RawQuery,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        match store.accept_upload(&key, query.as_deref().unwrap_or(""), &headers, &body) {
            Ok(()) => StatusCode::OK.into_response(),
            Err(refusal) => (refusal.status, refusal.reason).into_response(),
        }
    }
    async fn download(State(store): State<EmbeddedBlobStore>, Path(key): Path<String>, RawQuery(query): RawQuery) -> Response {
        match store.open_download(&key, query.as_deref().unwrap_or("")) {
            Ok(d) => (
                [(header::CONTENT_TYPE, d.content_type.clone()), (header::CONTENT_DISPOSITION, d.content_disposition())],
                d.bytes,
            )
                .into_response(),
            Err(refusal) => (refusal.status, refusal.reason).into_response(),
        }
    }
    let app = axum::Router::new()
        .route("/_local/blobs/{*key}", axum::routing::put(upload).get(download))
        .layer(axum::extract::DefaultBodyLimit::max(10 << 20))
        .with_state(store.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    store
}

// ---------------------------------------------------------------------------
// Moto instantiation
// ---------------------------------------------------------------------------

const TABLE: &str = "qnet-test";
const BUCKET: &str = "qnet-test-attachments";

/// Moto tests hold this while they run, so a plain `cargo test` (threads, one
/// process) does not reset moto under another test. nextest runs each test in
/// its own process and serialises them with the `moto` test group instead.
static MOTO: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn moto() -> SdkConfig {
    qnet_tests::moto::config().await
}

async fn moto_records() -> DynamoRecordStore {
    let config = moto().await;
    from_env::ensure_table(&from_env::dynamodb_client(&config), TABLE).await.unwrap();
    from_env::record_store(&config, TABLE)
}

async fn moto_blobs() -> S3BlobStore {
    let config = moto().await;
    from_env::ensure_bucket(&from_env::s3_client(&config), BUCKET).await.unwrap();
    from_env::blob_store(&config, BUCKET)
}

/// `Write::Increment`: atomic, bounded, on an existing item only, leaving the
/// version alone; a bound that fails cancels the whole transaction.
async fn increments_are_bounded(store: &dyn RecordStore) {
    let inc = |by: i64, at_least: Option<i64>, at_most: Option<i64>| Write::Increment {
        pk: "EV#1".into(),
        sk: "PLACES".into(),
        field: "n".into(),
        by,
        at_least,
        at_most,
    };
    let conflict = |e: &StoreError| matches!(e, StoreError::TransactionConflict { index: Some(0) });
    let err = store.transact(vec![inc(1, None, Some(2))]).await.unwrap_err();
    assert!(conflict(&err), "an absent item is not counted: {err:?}");
    store.put(Item::new("EV#1", "PLACES", json!({"label": "x"})).with_version(3), Condition::NotExists).await.unwrap();
    // An absent field counts as 0.
    store.transact(vec![inc(1, None, Some(2))]).await.unwrap();
    store.transact(vec![inc(1, None, Some(2))]).await.unwrap();
    let other = Write::Put { item: Item::new("EV#1", "OTHER", json!({})), condition: Condition::None };
    let err = store.transact(vec![inc(1, None, Some(2)), other]).await.unwrap_err();
    assert!(conflict(&err), "over the bound: {err:?}");
    assert_eq!(store.get("EV#1", "OTHER").await.unwrap(), None, "the transaction changed nothing");
    store.transact(vec![inc(-2, Some(0), None)]).await.unwrap();
    let err = store.transact(vec![inc(-1, Some(0), None)]).await.unwrap_err();
    assert!(conflict(&err), "under the bound: {err:?}");
    store.transact(vec![Write::increment("EV#1", "PLACES", "n", 5)]).await.unwrap();
    let item = store.get("EV#1", "PLACES").await.unwrap().unwrap();
    assert_eq!(item.data, json!({"label": "x", "n": 5}));
    assert_eq!(item.version, 3, "the version is untouched");
}

/// `Write::Tally`: creates the item on first use, adds to every field named,
/// reads back as an object of whole numbers, and is all-or-nothing with the
/// rest of its transaction; a query of the partition finds tallies.
async fn tallies_create_and_add(store: &dyn RecordStore) {
    let tally = |adds: &[(&str, i64)]| Write::Tally {
        pk: "INSIGHTS#2026-01".into(),
        sk: "ALL".into(),
        adds: adds.iter().map(|(f, n)| ((*f).to_owned(), *n)).collect(),
    };
    store.transact(vec![tally(&[("status:active", 1), ("topic:flow", 2)])]).await.unwrap();
    let item = store.get("INSIGHTS#2026-01", "ALL").await.unwrap().unwrap();
    assert_eq!(item.data, json!({"status:active": 1, "topic:flow": 2}));
    assert_eq!(item.version, 1);
    let other = Write::Put { item: Item::new("P#1", "P", json!({})), condition: Condition::None };
    store.transact(vec![tally(&[("status:active", -1), ("status:done", 1)]), other]).await.unwrap();
    let item = store.get("INSIGHTS#2026-01", "ALL").await.unwrap().unwrap();
    assert_eq!(item.data, json!({"status:active": 0, "status:done": 1, "topic:flow": 2}));
    // A failed condition elsewhere in the transaction moves no tally.
    let refused = Write::Put { item: Item::new("P#1", "P", json!({})), condition: Condition::NotExists };
    let err = store.transact(vec![tally(&[("topic:flow", 5)]), refused]).await.unwrap_err();
    assert!(matches!(err, StoreError::TransactionConflict { .. }), "{err:?}");
    let item = store.get("INSIGHTS#2026-01", "ALL").await.unwrap().unwrap();
    assert_eq!(item.data["topic:flow"], json!(2), "the refused transaction moved nothing");
    let page = store.query(Query::new(Index::Primary, "INSIGHTS#2026-01").limit(10)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].data["status:done"], json!(1));
    let too_many: Vec<(String, i64)> = (0..=qnet_ports::MAX_TALLY_FIELDS).map(|n| (format!("f{n}"), 1)).collect();
    let err = store.transact(vec![Write::Tally { pk: "X".into(), sk: "Y".into(), adds: too_many }]).await;
    assert!(err.is_err(), "a tally past its field limit is refused");
}

/// Transactions that each add to one shared count item, at the same moment,
/// all land (DynamoDB cancels one of two concurrent transactions on an item,
/// so the adapter tries such a cancellation again) and the count is exact.
async fn concurrent_tallies_all_land(store: &dyn RecordStore) {
    let one = |n: u32| {
        store.transact(vec![
            Write::Put { item: Item::new(format!("EVENT#{n}"), "E", json!({})), condition: Condition::NotExists },
            Write::Tally { pk: "INSIGHTS#state".into(), sk: "ALL".into(), adds: vec![("events".into(), 1)] },
        ])
    };
    let results = tokio::join!(one(0), one(1), one(2), one(3), one(4), one(5), one(6), one(7));
    for r in [results.0, results.1, results.2, results.3, results.4, results.5, results.6, results.7] {
        r.unwrap();
    }
    assert_eq!(store.get("INSIGHTS#state", "ALL").await.unwrap().unwrap().data["events"], json!(8));
}

// ---------------------------------------------------------------------------
// The tests: each behaviour once per adapter.
// ---------------------------------------------------------------------------

macro_rules! record_store_tests {
    ($($behaviour:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    let dir = super::TempDir::new();
                    let store = super::EmbeddedRecordStore::open(&dir.0).unwrap();
                    super::$behaviour(&store).await;
                }
            )*
        }
        mod moto {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    let _one_at_a_time = super::MOTO.lock().await;
                    let store = super::moto_records().await;
                    super::$behaviour(&store).await;
                }
            )*
        }
    };
}

record_store_tests!(
    create_if_absent,
    version_conflicts,
    exists_condition,
    transactions_are_all_or_nothing,
    expired_items_are_gone,
    expiry_follows_the_bound_clock,
    get_many_answers_in_order,
    pagination_on_every_index,
    raw_pages_match_query,
    prefix_filtering,
    foreign_cursors_are_refused,
    json_round_trips,
    increments_are_bounded,
    tallies_create_and_add,
    concurrent_tallies_all_land,
);

mod embedded_blobs {
    #[tokio::test]
    async fn basic_operations() {
        let dir = super::TempDir::new();
        super::blobs_basic(&super::embedded_blobs(&dir).await).await;
    }

    #[tokio::test]
    async fn presigned_upload_and_download() {
        let dir = super::TempDir::new();
        super::blobs_presigned(&super::embedded_blobs(&dir).await, true).await;
    }

    /// The purge deletes what has expired by the store's clock, and only that:
    /// a store stopped in the past keeps what the real time has expired.
    #[tokio::test]
    async fn the_purge_uses_the_stores_clock() {
        use qnet_ports::{Condition, FixedClock, Item, RecordStore};
        use std::sync::Arc;
        let dir = super::TempDir::new();
        let base = time::macros::datetime!(2026-11-20 09:00 UTC);
        let store = super::EmbeddedRecordStore::open(&dir.0).unwrap();
        let item = Item::new("P", "S", serde_json::json!({})).expiring_at(base.unix_timestamp() + 60);
        store.put(item.clone(), Condition::NotExists).await.unwrap();
        let then = store.clone().with_clock(Arc::new(FixedClock(base)));
        assert_eq!(then.purge_expired().unwrap(), 0);
        assert_eq!(then.get("P", "S").await.unwrap(), Some(item));
        let later = store.with_clock(Arc::new(FixedClock(base + time::Duration::minutes(2))));
        assert_eq!(later.purge_expired().unwrap(), 1);
        assert_eq!(then.get("P", "S").await.unwrap(), None, "deleted, not only hidden");
    }

    /// The embedded store persists across reopen (the runner restarts).
    #[tokio::test]
    async fn records_survive_reopening() {
        use qnet_ports::{Condition, Item, RecordStore};
        let dir = super::TempDir::new();
        let item = Item::new("P", "S", serde_json::json!({"kept": true}));
        {
            let store = super::EmbeddedRecordStore::open(&dir.0).unwrap();
            store.put(item.clone(), Condition::NotExists).await.unwrap();
        }
        let store = super::EmbeddedRecordStore::open(&dir.0).unwrap();
        assert_eq!(store.get("P", "S").await.unwrap(), Some(item));
    }
}

mod moto_blobs {
    #[tokio::test]
    async fn basic_operations() {
        let _one_at_a_time = super::MOTO.lock().await;
        super::blobs_basic(&super::moto_blobs().await).await;
    }

    /// Moto (5.2) does not verify `x-amz-checksum-sha256` against the body (its
    /// source has a TODO there) nor presigned signatures, so it stores wrong
    /// bytes that S3 would refuse with 400 BadDigest. What can be checked here is
    /// what makes S3 refuse them: the URL signs the checksum, length and type,
    /// and carries no SDK-chosen checksum (a CRC32 of an empty body would make
    /// S3 refuse every real upload).
    #[tokio::test]
    async fn presigned_upload_and_download() {
        let _one_at_a_time = super::MOTO.lock().await;
        let store = super::moto_blobs().await;
        super::blobs_presigned(&store, false).await;

        let spec = qnet_ports::UploadSpec {
            key: "uploads/CS1/ATT2".into(),
            content_type: "image/png".into(),
            size: 3,
            sha256_base64: super::sha256_base64(b"png"),
            expires_in: std::time::Duration::from_secs(60),
        };
        let put = qnet_ports::BlobStore::presign_put(&store, &spec).await.unwrap();
        let signed = put
            .url
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("X-Amz-SignedHeaders="))
            .unwrap_or_else(|| panic!("no signed headers in {}", put.url));
        assert_eq!(signed, "content-length%3Bcontent-type%3Bhost%3Bx-amz-checksum-sha256");
        let names: Vec<&str> = put.headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["content-length", "content-type", "x-amz-checksum-sha256"]);
        assert!(!put.url.to_ascii_lowercase().contains("crc32"), "{}", put.url);
        assert!(!put.url.contains("x-amz-sdk-checksum-algorithm"), "{}", put.url);
    }
}
