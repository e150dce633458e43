//! The integration tests, in one binary (one link, one `common`): the architecture rule,
//! the CLI, contract messages against the schemas, crash safety, erasure from every file, the documents' citations of
//! the repository, hostile input, several instances on PostgreSQL, overload, PostgreSQL reads on the async task, properties,
//! robustness, rule coverage, storage and the mutual-TLS server.

mod architecture;
mod cli;
mod common;
mod conformance;
mod contract_messages;
mod control;
mod crash;
mod docs_links;
mod erasure;
mod hostile;
mod journal;
mod lifecycle;
mod multi_instance;
mod operations;
mod overload;
mod postgres_reads;
mod profiles;
mod properties;
mod report;
mod robustness;
mod rule_coverage;
mod seeding;
mod storage;
mod tls_server;
