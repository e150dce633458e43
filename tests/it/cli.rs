//! The `pu-adapter` command: import exit codes and reports, the audit listing, graceful
//! shutdown on SIGTERM.

use crate::common::*;
use pu_adapter::contracts::Contract;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn import_reports_rejected_lines_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.jsonl");
    std::fs::write(&file, "{\"personId\":\"191212121212\",\"givenName\":\"Tolvan\",\"surname\":\"Tolvansson\"}\n{\"personId\":\"191212121213\",\"givenName\":\"X\",\"surname\":\"Y\"}\n").unwrap();
    let out = bin()
        .arg("import")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "line 2: rejected: personId: the check digit (Luhn, over the last 10 digits) is wrong"
        ),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 inserted, 0 updated, 1 rejected"));
    let clean = dir.path().join("clean.jsonl");
    std::fs::write(
        &clean,
        "{\"personId\":\"191212121212\",\"givenName\":\"Tolvan\",\"surname\":\"T\"}\n",
    )
    .unwrap();
    let out = bin()
        .arg("import")
        .arg(&clean)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 inserted, 1 updated, 0 rejected"));
}

// AC-2: `pu-adapter audit --person` lists every access to one person.
#[test]
fn ac2_audit_command_lists_accesses_to_one_person() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = std::sync::Arc::new(
            pu_adapter::store::sqlite::SqliteStore::open(&dir.path().join("pu-adapter.db"))
                .unwrap(),
        );
        pu_adapter::demo::load(store.as_ref(), &Default::default()).unwrap();
        let read = format!(
            r#"<GetPersonContactInformation xmlns="{}" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>197001013452</c:extension></personId></GetPersonContactInformation>"#,
            Contract::GetPersonContactInformation.responder_ns()
        );
        call(
            &store,
            Contract::GetPersonContactInformation,
            CONSUMER,
            &read,
        );
        call(
            &store,
            Contract::GetPersonContactInformation,
            CONSUMER,
            &read,
        );
    }
    let out = bin()
        .args(["audit", "--person", "197001013452", "--json"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reads: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["contract"] == "GetPersonContactInformation")
        .collect();
    assert_eq!(reads.len(), 2, "{lines:?}");
    assert_eq!(reads[0]["consumer"], CONSUMER);
    assert_eq!(reads[0]["correlationId"], "test-correlation");
    let text = bin()
        .args(["audit", "--person", "197001013452", "--consumer", CONSUMER])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stderr).contains("2 entries"));
}

#[test]
fn serve_exits_0_after_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = serve_command(dir.path(), port)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SIGHUP reloads; it must not end the process (its default action would).
    Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP ended the server"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0));
            break;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn help_documents_every_command() {
    let out = bin().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "import", "audit", "check-config", "dev-certs"] {
        assert!(help.contains(cmd), "{help}");
    }
    let serve = String::from_utf8_lossy(&bin().args(["serve", "--help"]).output().unwrap().stdout)
        .into_owned();
    for opt in [
        "--config",
        "--listen",
        "--data-dir",
        "--admin-listen",
        "--log-format",
        "--no-demo",
    ] {
        assert!(serve.contains(opt), "{serve}");
    }
}

#[test]
fn a_corrupt_or_unwritable_database_gives_a_clear_error_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pu-adapter.db"), vec![0x5a; 65536]).unwrap();
    let out = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", ""])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pu-adapter.db: database error: file is not a database"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let out = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", ""])
        .arg("--data-dir")
        .arg(file.join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot create data directory"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_bad_sqlite_tuning_is_refused_at_start_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let serve = || {
        let mut c = bin();
        c.args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", ""])
            .arg("--data-dir")
            .arg(dir.path());
        c
    };
    let out = serve()
        .env("PU_ADAPTER_SQLITE_READERS", "eight")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("PU_ADAPTER_SQLITE_READERS=\"eight\" is not a whole number"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = serve()
        .env("PU_ADAPTER_SQLITE_READERS", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("store.sqlite_readers must be at least 1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes a production-style configuration with `tls` as its `[tls]` table.
fn config_file(dir: &std::path::Path, tls: &str) -> std::path::PathBuf {
    let file = dir.join("pu-adapter.toml");
    let data = dir.join("data");
    std::fs::write(
        &file,
        format!("listen = \"127.0.0.1:0\"\nadmin_listen = \"\"\ndata_dir = {data:?}\n{tls}\n"),
    )
    .unwrap();
    file
}

fn serve_with(config: &std::path::Path) -> std::process::Output {
    bin()
        .arg("serve")
        .arg("--config")
        .arg(config)
        .output()
        .unwrap()
}

#[test]
fn a_config_file_without_tls_files_is_refused_and_touches_no_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = serve_with(&config_file(dir.path(), ""));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tls.cert, tls.key, tls.client_ca not set"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "a refused start created the data directory"
    );
    let out = serve_with(&config_file(
        dir.path(),
        "[tls]\ncert = \"certs-dev/server.pem\"\nkey = \"certs-dev/server.key\"",
    ));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("tls.client_ca not set"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_development_ca_and_server_key_are_refused_under_a_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let certs = repo().join("certs-dev");
    // A copy under another name is still the published CA.
    let copied_ca = dir.path().join("region-ca.pem");
    std::fs::copy(certs.join("ca.pem"), &copied_ca).unwrap();
    let fresh = dir.path().join("fresh");
    pu_adapter::devcerts::generate(&fresh).unwrap();
    let tls = |cert: &std::path::Path, key: &std::path::Path, ca: &std::path::Path| {
        format!("[tls]\ncert = {cert:?}\nkey = {key:?}\nclient_ca = {ca:?}")
    };

    let out = serve_with(&config_file(
        dir.path(),
        &tls(
            &fresh.join("server.pem"),
            &fresh.join("server.key"),
            &copied_ca,
        ),
    ));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tls.client_ca = ")
            && stderr.contains("region-ca.pem: this is the development CA of certs-dev/"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tls.allow_development_certificates = true"),
        "{stderr}"
    );

    let out = serve_with(&config_file(
        dir.path(),
        &tls(
            &certs.join("server.pem"),
            &certs.join("server.key"),
            &fresh.join("ca.pem"),
        ),
    ));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("this is the development server certificate"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !dir.path().join("data").exists(),
        "a refused start created the data directory"
    );
}

/// Starts `serve` with a config file and reports whether it came up listening.
fn starts_listening(config: &std::path::Path) -> bool {
    let mut child = bin()
        .arg("serve")
        .arg("--config")
        .arg(config)
        .env("PU_ADAPTER_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("pu-adapter listening on https://") {
                let _ = tx.send(());
            }
        }
    });
    let listening = rx.recv_timeout(Duration::from_secs(30)).is_ok();
    let _ = child.kill();
    let _ = child.wait();
    listening
}

#[test]
fn own_certificates_or_the_explicit_development_switch_start_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("own");
    pu_adapter::devcerts::generate(&own).unwrap();
    let tls = |certs: &std::path::Path, extra: &str| {
        format!(
            "[tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\n{extra}",
            certs.join("server.pem"),
            certs.join("server.key"),
            certs.join("ca.pem")
        )
    };
    assert!(
        starts_listening(&config_file(dir.path(), &tls(&own, ""))),
        "a region's own certificates were refused"
    );
    assert!(starts_listening(&config_file(
        dir.path(),
        &tls(
            &repo().join("certs-dev"),
            "allow_development_certificates = true"
        )
    )));
}

#[test]
fn every_key_can_be_set_from_the_environment_and_bad_values_name_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |var: &str, value: &str| {
        bin()
            .args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", ""])
            .arg("--data-dir")
            .arg(dir.path())
            .env(var, value)
            .output()
            .unwrap()
    };
    let out = serve("PU_ADAPTER_LOG_FORMAT", "jsn");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("PU_ADAPTER_LOG_FORMAT"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = serve("PU_ADAPTER_LIMITS__MAX_IN_FLIGHT", "0");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("limits.max_in_flight must be at least 1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// PR-4: the audit listing shows an erasure with its reason; --since accepts any offset.
#[test]
fn pr4_the_audit_listing_shows_each_erasure_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = pu_adapter::store::sqlite::SqliteStore::open(&dir.path().join("pu-adapter.db"))
            .unwrap();
        pu_adapter::demo::load(&store, &Default::default()).unwrap();
    }
    let file = dir.path().join("protected.jsonl");
    std::fs::write(
        &file,
        r#"{"personId":"191212121212","givenName":"Tolvan","surname":"Tolvansson","protection":{"sekretessmarkering":true}}"#,
    )
    .unwrap();
    let out = bin()
        .arg("import")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = bin()
        .args(["audit", "--person", "191212121212"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&listing.stdout);
    let erasure = text
        .lines()
        .find(|l| l.contains("ERASED_PROTECTED_PR-4"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        erasure.contains("import") && erasure.contains("pu-adapter-import"),
        "{erasure}"
    );
    assert!(
        !text.contains("tolvan@example.se") && !text.contains("+46701234567"),
        "values in the trail: {text}"
    );
    // The same instant written with an offset: one hour ahead of UTC is still before now.
    let since = (chrono::Utc::now() - chrono::Duration::minutes(30))
        .with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap())
        .to_rfc3339();
    let recent = bin()
        .args(["audit", "--person", "191212121212", "--since", &since])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&recent.stdout).contains("ERASED_PROTECTED_PR-4"),
        "--since {since}: {}",
        String::from_utf8_lossy(&recent.stdout)
    );
    let future = (chrono::Utc::now() + chrono::Duration::minutes(30))
        .with_timezone(&chrono::FixedOffset::west_opt(5 * 3600).unwrap())
        .to_rfc3339();
    let none = bin()
        .args(["audit", "--person", "191212121212", "--since", &future])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&none.stderr).contains("0 entries"),
        "--since {future}: {}",
        String::from_utf8_lossy(&none.stdout)
    );
    let bad = bin()
        .args(["audit", "--since", "yesterday"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not an RFC 3339 time"));
}

#[test]
fn check_config_names_what_is_wrong_and_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("own");
    pu_adapter::devcerts::generate(&own).unwrap();
    let other = dir.path().join("other");
    pu_adapter::devcerts::generate(&other).unwrap();
    let check = |tls: String, extra: &str| {
        let file = config_file(dir.path(), &format!("{extra}\n{tls}"));
        bin()
            .arg("check-config")
            .arg("--config")
            .arg(&file)
            .output()
            .unwrap()
    };
    let tls = |cert: &std::path::Path, key: &std::path::Path, ca: &std::path::Path| {
        format!("[tls]\ncert = {cert:?}\nkey = {key:?}\nclient_ca = {ca:?}")
    };
    let ok = check(
        tls(
            &own.join("server.pem"),
            &own.join("server.key"),
            &own.join("ca.pem"),
        ),
        "",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        stdout.contains("# tls:") && stdout.contains("valid for"),
        "{stdout}"
    );
    // A key that belongs to another certificate.
    let mismatch = check(
        tls(
            &own.join("server.pem"),
            &other.join("server.key"),
            &own.join("ca.pem"),
        ),
        "",
    );
    assert_eq!(mismatch.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&mismatch.stderr);
    assert!(
        stderr.contains("problem: tls:") && stderr.to_lowercase().contains("key"),
        "{stderr}"
    );
    // A CA file that does not exist is named.
    let missing = check(
        tls(
            &own.join("server.pem"),
            &own.join("server.key"),
            &dir.path().join("nope.pem"),
        ),
        "",
    );
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("nope.pem"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    // The PostgreSQL password never appears.
    let pg = check(
        tls(&own.join("server.pem"), &own.join("server.key"), &own.join("ca.pem")),
        "[store]\nkind = \"postgresql\"\npostgres_url = \"host=127.0.0.1 port=1 user=pu password=s3cret connect_timeout=1\"",
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&pg.stdout),
        String::from_utf8_lossy(&pg.stderr)
    );
    assert!(
        !all.contains("s3cret") && all.contains("password=[redacted]"),
        "{all}"
    );
    assert_eq!(
        pg.status.code(),
        Some(1),
        "an unreachable store is a problem: {all}"
    );
}

#[test]
fn an_ephemeral_store_is_used_and_removed_at_exit_and_dev_certs_take_extra_names() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = bin()
        .args([
            "serve",
            "--ephemeral",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--admin-listen",
            "",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(rest) = line.strip_prefix("pu-adapter: ephemeral store in ") {
                let _ = tx.send(rest.trim_end_matches(" (removed at exit)").to_owned());
            }
        }
    });
    let dir = std::path::PathBuf::from(
        rx.recv_timeout(Duration::from_secs(30))
            .expect("no ephemeral store line"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        dir.join("pu-adapter.db").exists(),
        "the store is not in {}",
        dir.display()
    );
    assert!(!repo().join("data").join("pu-adapter.db").exists() || dir != repo().join("data"));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(!dir.exists(), "{} survived the exit", dir.display());

    let certs = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "dev-certs",
            "--san",
            "pu-adapter",
            "staging.example.se",
            "--out",
        ])
        .arg(certs.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pem = std::fs::read_to_string(certs.path().join("server.pem")).unwrap();
    let der = rustls::pki_types::pem::PemObject::from_pem_slice(pem.as_bytes())
        .map(|c: rustls::pki_types::CertificateDer<'_>| c.to_vec())
        .unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let names: Vec<String> = cert
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    assert!(
        names.iter().any(|n| n.contains("pu-adapter"))
            && names.iter().any(|n| n.contains("staging.example.se"))
            && names.iter().any(|n| n.contains("localhost")),
        "{names:?}"
    );
}
