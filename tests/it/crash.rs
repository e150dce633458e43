//! SIGKILL in the middle of a stream of updates loses no acknowledged update and leaves
//! no partial one; in the middle of a stream of reads it loses no answered read's audit
//! entry (AC-2: the journal is replayed into the index at restart); the restart on the
//! same database is clean. Run on SQLite and, when PU_ADAPTER_TEST_POSTGRES_URL names a
//! server (CI sets it), on PostgreSQL.

use crate::common::tls::*;
use crate::common::*;
use pu_adapter::contracts::Contract;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const HANNA: &str = "199002026780";

fn start(data: &std::path::Path, port: u16, env: &[(&str, String)]) -> Child {
    serve_command(data, port)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pu-adapter")
}

async fn wait_until_up(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if connect(([127, 0, 0, 1], port).into(), Some("consumer"))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not come up");
}

/// Update number `i`: an sms and an email that carry the same `i`, so a mixed set is visible.
fn update(i: u32, version: Option<&str>) -> String {
    let version = version
        .map(|v| format!("<versionToUpdate>{v}</versionToUpdate>"))
        .unwrap_or_default();
    envelope(&format!(
        r#"<UpdatePersonContactInformation xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><actor><c:id><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{HANNA}</c:extension></c:id></actor><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{HANNA}</c:extension></personId>{version}<contactInformation><c:contactType>sms</c:contactType><c:value>+467011{i:05}</c:value><c:digitalNotification>true</c:digitalNotification></contactInformation><contactInformation><c:contactType>email</c:contactType><c:value>update{i}@example.se</c:value><c:digitalNotification>false</c:digitalNotification></contactInformation></UpdatePersonContactInformation>"#,
        Contract::UpdatePersonContactInformation.responder_ns()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_updates_loses_no_acknowledged_update() {
    let dir = tempfile::tempdir().unwrap();
    let acknowledged = kill_during_updates_and_restart(dir.path(), &[]).await;
    let conn = rusqlite::Connection::open(dir.path().join("pu-adapter.db")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let audited: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit WHERE contract = 'UpdatePersonContactInformation' AND outcome = 'OK' AND person_key LIKE ?1",
            [format!("%{HANNA}")],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        audited as usize >= acknowledged,
        "{acknowledged} updates acknowledged but only {audited} audited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_updates_loses_no_acknowledged_update_postgresql() {
    let Some(db_url) = fresh_postgres_database("pu_crash") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let env = postgres_env(&db_url);
    let acknowledged = kill_during_updates_and_restart(dir.path(), &env).await;
    let audited: i64 = tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&db_url, postgres::NoTls).unwrap();
        c.query_one(
            "SELECT count(*) FROM audit WHERE contract = 'UpdatePersonContactInformation' AND outcome = 'OK' AND person_key LIKE $1",
            &[&format!("%{HANNA}")],
        )
        .unwrap()
        .get(0)
    })
    .await
    .unwrap();
    assert!(
        audited as usize >= acknowledged,
        "{acknowledged} updates acknowledged but only {audited} audited"
    );
}

/// Streams updates, SIGKILLs the service with one in flight, restarts it on the same store
/// and checks the stored record is the last acknowledged update (or the one in flight),
/// whole. Returns how many updates were acknowledged.
// The child is killed and reaped inside the loop or just after it; clippy cannot see that.
#[allow(clippy::zombie_processes)]
async fn kill_during_updates_and_restart(data: &std::path::Path, env: &[(&str, String)]) -> usize {
    let port = free_port();
    let mut child = start(data, port, env);
    wait_until_up(port).await;
    let addr = ([127, 0, 0, 1], port).into();
    let mut acknowledged: Vec<(u32, String)> = Vec::new();
    let mut version: Option<String> = None;
    let kill_at = Instant::now() + Duration::from_millis(800);
    let mut tls = connect(addr, Some("consumer")).await.unwrap();
    let mut killed = false;
    for i in 0..100_000u32 {
        if !killed && Instant::now() >= kill_at {
            // Kill while the next request is in flight.
            let request = soap_post(
                Contract::UpdatePersonContactInformation.path(),
                &update(i, version.as_deref()),
                &[],
            );
            let _ = tokio::io::AsyncWriteExt::write_all(&mut tls, &request).await;
            child.kill().unwrap();
            child.wait().unwrap();
            killed = true;
            break;
        }
        let r = exchange(
            &mut tls,
            &soap_post(
                Contract::UpdatePersonContactInformation.path(),
                &update(i, version.as_deref()),
                &[],
            ),
        )
        .await
        .unwrap();
        assert_eq!(text_of(&r.body, "resultCode"), Some("OK"), "{}", r.body);
        let v = text_of(&r.body, "version").unwrap().to_owned();
        acknowledged.push((i, v.clone()));
        version = Some(v);
    }
    if !killed {
        // Never reached in practice (the loop is 100,000 long); reap the child either way.
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(
        killed && acknowledged.len() > 5,
        "only {} updates before the kill",
        acknowledged.len()
    );

    let mut child = start(data, port, env);
    wait_until_up(port).await;
    let read = envelope(&format!(
        r#"<GetPersonContactInformation xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{HANNA}</c:extension></personId></GetPersonContactInformation>"#,
        Contract::GetPersonContactInformation.responder_ns()
    ));
    let r = post(
        addr,
        "consumer",
        Contract::GetPersonContactInformation.path(),
        &read,
        &[],
    )
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let stored_version = text_of(&r.body, "version").unwrap().to_owned();
    let (last_i, last_v) = acknowledged.last().unwrap().clone();
    assert!(
        stored_version >= last_v,
        "acknowledged version {last_v} lost; stored {stored_version}"
    );
    let values = texts_of(&r.body, "value");
    let i = if stored_version == last_v {
        last_i
    } else {
        last_i + 1
    };
    assert_eq!(
        values,
        vec![format!("+467011{i:05}"), format!("update{i}@example.se")],
        "stored set is not one whole update"
    );
    eprintln!(
        "{} updates acknowledged before SIGKILL; after restart the record is update {i}",
        acknowledged.len()
    );

    acknowledged.len()
}

/// A P3 read of Tolvan whose correlation id is `id`.
fn read_with_id(id: &str) -> Vec<u8> {
    soap_post(
        Contract::GetPersonsForProfile.path(),
        &gpfp("191212121212", "P3"),
        &[("x-skltp-correlation-id", id)],
    )
}

/// Streams reads on four connections, SIGKILLs the service mid-stream, restarts it on the
/// same store (the restart replays the journal) and stops it again. Returns the
/// correlation ids of every read answered before the kill.
#[allow(clippy::zombie_processes)]
async fn kill_during_reads_and_restart(
    data: &std::path::Path,
    env: &[(&str, String)],
) -> Vec<String> {
    let port = free_port();
    let mut child = start(data, port, env);
    wait_until_up(port).await;
    let addr = ([127, 0, 0, 1], port).into();
    let stop_at = Instant::now() + Duration::from_millis(800);
    let readers: Vec<_> = (0..4)
        .map(|c| {
            tokio::spawn(async move {
                let mut tls = connect(addr, Some("consumer")).await.unwrap();
                let mut answered = Vec::new();
                for i in 0.. {
                    let id = format!("crash-read-{c}-{i}");
                    // Past the kill the exchange fails: the read was never answered.
                    match exchange(&mut tls, &read_with_id(&id)).await {
                        Ok(r) if r.status == 200 => answered.push(id),
                        _ => break,
                    }
                }
                answered
            })
        })
        .collect();
    tokio::time::sleep_until(stop_at.into()).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let mut answered = Vec::new();
    for r in readers {
        answered.extend(r.await.unwrap());
    }
    assert!(
        answered.len() > 20,
        "only {} reads before the kill",
        answered.len()
    );
    let mut child = start(data, port, env);
    wait_until_up(port).await;
    child.kill().unwrap();
    child.wait().unwrap();
    answered
}

fn assert_all_audited(answered: &[String], audited: &std::collections::HashSet<String>) {
    let missing: Vec<&String> = answered
        .iter()
        .filter(|id| !audited.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} answered reads have no audit entry after the restart, e.g. {:?}",
        missing.len(),
        answered.len(),
        missing.first()
    );
    eprintln!(
        "{} reads answered before SIGKILL, every one audited after the restart",
        answered.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ac2_sigkill_during_reads_loses_no_answered_reads_audit_entry() {
    let dir = tempfile::tempdir().unwrap();
    let answered = kill_during_reads_and_restart(dir.path(), &[]).await;
    let conn = rusqlite::Connection::open(dir.path().join("pu-adapter.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT correlation_id FROM audit WHERE contract = 'GetPersonsForProfile'")
        .unwrap();
    let audited = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_all_audited(&answered, &audited);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ac2_sigkill_during_reads_loses_no_answered_reads_audit_entry_postgresql() {
    let Some(db_url) = fresh_postgres_database("pu_crash_reads") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let env = postgres_env(&db_url);
    let answered = kill_during_reads_and_restart(dir.path(), &env).await;
    let audited = tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&db_url, postgres::NoTls).unwrap();
        c.query(
            "SELECT correlation_id FROM audit WHERE contract = 'GetPersonsForProfile'",
            &[],
        )
        .unwrap()
        .into_iter()
        .map(|r| r.get::<_, String>(0))
        .collect()
    })
    .await
    .unwrap();
    assert_all_audited(&answered, &audited);
}
