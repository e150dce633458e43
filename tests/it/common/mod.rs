//! Helpers of the integration tests only; what benches, examples and fuzz share is in
//! `pu_adapter::testkit`.

pub(crate) use pu_adapter::testkit::*;

pub(crate) mod tls;

/// The `pu-adapter` binary, run from the repository root with warnings-only logs.
pub(crate) fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_pu-adapter"));
    c.current_dir(repo()).env("PU_ADAPTER_LOG", "warn");
    c
}

/// `pu-adapter serve` on the development defaults, listening on `port`, data in `data`.
pub(crate) fn serve_command(data: &std::path::Path, port: u16) -> std::process::Command {
    let mut c = bin();
    let listen = format!("127.0.0.1:{port}");
    c.args(["serve", "--listen", &listen, "--admin-listen", ""])
        .arg("--data-dir")
        .arg(data);
    c
}
