//! Two service instances sharing one PostgreSQL database: an update made through one is
//! read through the other (needs PU_ADAPTER_TEST_POSTGRES_URL; CI sets it).

use crate::common::tls::*;
use crate::common::*;
use pu_adapter::contracts::Contract;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_through_one_instance_is_read_through_the_other() {
    let Some(shared_url) = fresh_postgres_database("pu_multi") else {
        return;
    };
    let use_pg = |c: &mut pu_adapter::config::Config| {
        c.store.kind = pu_adapter::store::StoreKind::Postgresql;
        c.store.postgres_url = Some(shared_url.clone());
        c.store.postgres_pool_size = 4;
        c.store.postgres_ca = test_postgres_ca();
    };
    let a = start_server(use_pg).await;
    let b = start_server(use_pg).await;
    assert_eq!(a.running.stores.persons.kind().as_str(), "postgresql");

    let update = envelope(&format!(
        r#"<UpdatePersonContactInformation xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><actor><c:id><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>199002026780</c:extension></c:id></actor><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>199002026780</c:extension></personId><contactInformation><c:contactType>email</c:contactType><c:value>hanna@instance-a.example.se</c:value><c:digitalNotification>true</c:digitalNotification></contactInformation></UpdatePersonContactInformation>"#,
        Contract::UpdatePersonContactInformation.responder_ns()
    ));
    let r = post(
        a.addr(),
        "consumer",
        Contract::UpdatePersonContactInformation.path(),
        &update,
        &[],
    )
    .await;
    assert_eq!(text_of(&r.body, "resultCode"), Some("OK"), "{}", r.body);
    let version = text_of(&r.body, "version").unwrap().to_owned();

    let read = envelope(&format!(
        r#"<GetPersonContactInformation xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>199002026780</c:extension></personId></GetPersonContactInformation>"#,
        Contract::GetPersonContactInformation.responder_ns()
    ));
    let r = post(
        b.addr(),
        "consumer",
        Contract::GetPersonContactInformation.path(),
        &read,
        &[],
    )
    .await;
    assert_eq!(
        text_of(&r.body, "value"),
        Some("hanna@instance-a.example.se"),
        "{}",
        r.body
    );
    assert_eq!(text_of(&r.body, "version"), Some(version.as_str()));

    // The same stale version through B now conflicts: the instances share one truth.
    let stale = post(
        b.addr(),
        "consumer",
        Contract::UpdatePersonContactInformation.path(),
        &update,
        &[],
    )
    .await;
    assert_eq!(text_of(&stale.body, "errorCode"), Some("VERSION_CONFLICT"));
    a.running.server.shutdown().await;
    b.running.server.shutdown().await;
}

fn pg_script(args: &[&str], port: u16) -> String {
    let out = std::process::Command::new(repo().join(".ci/postgres.sh"))
        .args(args)
        .env("PGPORT", port.to_string())
        .output()
        .expect("run .ci/postgres.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A database that goes away gives soap:Server Faults and writes nothing; when it comes
/// back the service answers again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_gives_server_faults_and_the_service_recovers() {
    if std::env::var("PU_ADAPTER_TEST_POSTGRES_URL").is_err() {
        eprintln!("skipped: PU_ADAPTER_TEST_POSTGRES_URL not set (no PostgreSQL server)");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = tokio::task::spawn_blocking(move || pg_script(&["start"], port))
        .await
        .unwrap();
    let dir = started
        .lines()
        .find_map(|l| l.strip_prefix("export PGDATA_DIR='"))
        .map(|d| d.trim_end_matches('\'').to_owned())
        .expect("data dir");
    let url = format!("host=127.0.0.1 port={port} user=postgres");
    let server = start_server(|c| {
        c.store.kind = pu_adapter::store::StoreKind::Postgresql;
        c.store.postgres_url = Some(url.clone());
        c.store.postgres_pool_size = 2;
        c.store.postgres_ca = test_postgres_ca();
    })
    .await;
    let read = envelope(&format!(
        r#"<GetPersonContactInformation xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>191212121212</c:extension></personId></GetPersonContactInformation>"#,
        Contract::GetPersonContactInformation.responder_ns()
    ));
    let path = Contract::GetPersonContactInformation.path();
    assert_eq!(
        post(server.addr(), "consumer", path, &read, &[])
            .await
            .status,
        200
    );

    let d = dir.clone();
    tokio::task::spawn_blocking(move || pg_script(&["pause", &d], port))
        .await
        .unwrap();
    let down = post(server.addr(), "consumer", path, &read, &[]).await;
    assert_eq!(down.status, 500);
    assert_eq!(
        text_of(&down.body, "faultcode"),
        Some("soap:Server"),
        "{}",
        down.body
    );
    assert!(text_of(&down.body, "faultstring")
        .unwrap()
        .contains("database is unavailable; nothing was changed"));

    let d = dir.clone();
    tokio::task::spawn_blocking(move || pg_script(&["resume", &d], port))
        .await
        .unwrap();
    let mut recovered = false;
    for _ in 0..50 {
        if post(server.addr(), "consumer", path, &read, &[])
            .await
            .status
            == 200
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    server.running.server.shutdown().await;
    tokio::task::spawn_blocking(move || pg_script(&["stop", &dir], port))
        .await
        .unwrap();
    assert!(
        recovered,
        "the service did not recover when the database came back"
    );
}
