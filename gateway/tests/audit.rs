//! The audit log as the gateway keeps it: a file in the data folder, written before each response
//! leaves, read back after a restart and after a crash that tore its last line.

use std::io::Write;

use musubi_gateway::app::{App, Config};
use musubi_ontology::tier::Tier;
use musubi_schema::Principal;
use serde_json::Value;

fn steward() -> Principal {
    Principal {
        tier: Tier::Steward,
        grants: Default::default(),
        subject: Some("dac-member-7".to_owned()),
        issuer: Some("https://idp.example.org".to_owned()),
    }
}

async fn run(app: &App, query: &str) -> Value {
    let response = app.execute(async_graphql::Request::new(query), steward()).await.expect("audited");
    serde_json::to_value(&response).expect("json")
}

const LOG: &str = "{ auditLog(first: 10) { totalCount edges { node { position subject issuer tier dataset fields grantUsed } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_survives_a_restart_and_a_torn_last_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config { sources: dir.path().join("sources"), ..Config::of_data(dir.path().join("data")) };
    {
        let app = App::open(&config).expect("hub starts");
        // Reading the audit log is itself a STEWARD read, and is logged.
        let body = run(&app, LOG).await;
        assert_eq!(body["data"]["auditLog"]["totalCount"], 0, "{body}");
    }
    // A crash while the next batch was being written.
    let path = config.data.join("audit.jsonl");
    std::fs::OpenOptions::new().append(true).open(&path).expect("log file").write_all(br#"{"at":"2026-"#).expect("write");

    let app = App::open(&config).expect("hub restarts");
    let body = run(&app, LOG).await;
    let edges = body["data"]["auditLog"]["edges"].as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(edges.len(), 1, "the entry from before the restart, not the torn line: {body}");
    let entry = &edges[0]["node"];
    assert_eq!(entry["subject"], "dac-member-7");
    assert_eq!(entry["issuer"], "https://idp.example.org");
    assert_eq!(entry["tier"], "STEWARD");
    assert_eq!(entry["fields"], serde_json::json!(["auditLog"]));
    assert!(entry["dataset"].is_null());
    drop(app);

    // The second read was logged after the torn line, on a line of its own.
    let text = std::fs::read_to_string(&path).expect("log");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(serde_json::from_str::<Value>(lines[2]).is_ok(), "{text}");
    let app = App::open(&config).expect("hub restarts again");
    let body = run(&app, "{ auditLog { totalCount edges { node { position } } } }").await;
    assert_eq!(body["data"]["auditLog"]["totalCount"], 2, "{body}");
    assert_eq!(body["data"]["auditLog"]["edges"][1]["node"]["position"], 3, "positions are line numbers: {body}");
}
