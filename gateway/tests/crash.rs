//! Killing the `musubi` binary (SIGKILL) in the middle of a grant approval, on an on-disk data
//! folder: after a restart the grant exists whole or not at all, and the audit log agrees.
//!
//! The server is told (test-only `MUSUBI_TEST_PAUSE_APPROVAL`) to stop for good at one point of
//! the approval and to say so with a file in the data folder; the test kills it there. The two
//! points are just before and just after the one store transaction that writes the request's
//! new state and its grant; the audit line comes after it (see `musubi_platform::ledger`).

use std::net::SocketAddr;
use std::path::Path;

use musubi_tests::{Partner, graphql_as, manifests, write_manifests};
use serde_json::{Value, json};

mod common;
use common::{Killed, listening, musubi};

/// `musubi serve` on a free port, pausing approvals at `pause` if given.
fn serve(data: &Path, pause: Option<&str>) -> (Killed, SocketAddr) {
    let mut command = musubi(data);
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    if let Some(point) = pause {
        command.env("MUSUBI_TEST_PAUSE_APPROVAL", point);
    }
    listening(command)
}

fn apikey(data: &Path, name: &str, tier: &str) -> String {
    let out = musubi(data).args(["apikey", "create", "--name", name, "--tier", tier, "--org", "Tohoku University", "--class", "academic"]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().find(|l| l.starts_with("musubi_")).expect("key printed").to_owned()
}

const STEWARDSHIP: &str = r#"@prefix m: <https://w3id.org/musubi/vocab#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
<https://w3id.org/musubi/dataset/JGAD000001> a dcat:Dataset ; dct:identifier "JGAD000001" ;
    m:dataUseCondition <http://purl.obolibrary.org/obo/DUO_0000042> ; m:sampleAttribute "germline WGS, 30x" .
"#;

const SUBMIT: &str = r#"mutation { submitAccessRequest(input: { datasets: ["JGAD000001"], purpose: "Pharmacogenomics of warfarin dosing",
    researchUse: { healthMedicalBiomedical: true, commercial: false }, institution: "Tohoku University",
    period: { start: "2026-12-01", end: "2027-12-01" }, members: ["Taro Sato"] }) { id } }"#;
const STATE: &str = r#"query($id: ID!) { accessRequest(id: $id) { state grant transitions { id action } } grants { id request state datasets } }"#;

/// Sends the approval and does not wait for it: the server will stop in the middle.
fn approve_in_background(addr: SocketAddr, steward: &str, id: &str) {
    let body = json!({
        "query": "mutation($id: ID!) { approveAccessRequest(id: $id, comment: \"ethics approval seen\", expires: \"2999-01-01T00:00:00Z\") { state } }",
        "variables": { "id": id },
    });
    let request = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .header("content-type", "application/json")
        .header("x-api-key", steward)
        .body(body.to_string());
    tokio::spawn(async move {
        let _ = request.send().await;
    });
}

/// Waits until the server says it has stopped at `point`, then kills it (SIGKILL).
async fn kill_when_paused(mut server: Killed, data: &Path, point: &str) {
    let marker = data.join(format!("paused-at-{point}"));
    let mut tries = 0;
    while !marker.exists() {
        tries += 1;
        assert!(tries < 600, "the approval never reached {point}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.0.kill().expect("SIGKILL");
    server.0.wait().expect("reaped");
    std::fs::remove_file(marker).expect("marker removed");
}

/// The audit log's process steps on disk, as (action, record, transition) lines.
fn audited_steps(data: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(data.join("audit.jsonl")).expect("audit log");
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["action"].is_string())
        .map(|e| (e["action"].as_str().unwrap().to_owned(), e["record"].as_str().unwrap().to_owned(), e["transition"].as_str().unwrap().to_owned()))
        .collect()
}

async fn reads_controlled(addr: SocketAddr, key: &str) -> bool {
    let body = graphql_as(addr, Some(key), r#"{ dataset(id: "JGAD000001") { sampleAttributes } }"#, json!({})).await;
    body["data"]["dataset"]["sampleAttributes"][0] == "germline WGS, 30x"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_during_a_grant_approval_the_grant_is_whole_or_absent_and_the_audit_log_agrees() {
    let humandbs = Partner::start().await;
    let dcat = Partner::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    let data = data.path();
    let stewardship = data.join("stewardship.ttl");
    std::fs::write(&stewardship, STEWARDSHIP).expect("write");
    let mut sources = manifests(&humandbs, &dcat);
    sources.push(("stewardship.toml", format!("id = \"stewardship\"\nkind = \"rdf-dump\"\nendpoint = \"{}\"\n", stewardship.display())));
    write_manifests(&data.join("sources"), &sources);
    let out = musubi(data).arg("harvest").output().expect("harvest runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let researcher = apikey(data, "taro", "REGISTERED");
    let steward = apikey(data, "dac", "STEWARD");

    // 1. Killed just after the commit, before the audit line: the grant is there, whole, and
    //    the restarted hub writes the missing audit lines before it serves.
    let (server, addr) = serve(data, Some("after-commit"));
    let body = graphql_as(addr, Some(&researcher), SUBMIT, json!({})).await;
    let first = body["data"]["submitAccessRequest"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    assert!(!reads_controlled(addr, &researcher).await);
    approve_in_background(addr, &steward, &first);
    kill_when_paused(server, data, "after-commit").await;
    assert!(!audited_steps(data).iter().any(|(a, _, _)| a == "accessRequest.approve"), "killed before the audit line");

    // 2. Restarted (pausing the next approval before its commit): approved, the grant active, the
    //    audit log complete; then killed again before the second approval's commit.
    let (server, addr) = serve(data, Some("before-commit"));
    let body = graphql_as(addr, Some(&steward), STATE, json!({ "id": first })).await;
    let request = &body["data"]["accessRequest"];
    assert_eq!(request["state"], "APPROVED", "{body}");
    let grant = request["grant"].as_str().expect("the grant").to_owned();
    assert_eq!(body["data"]["grants"], json!([{ "id": grant, "request": first, "state": "ACTIVE", "datasets": ["JGAD000001"] }]));
    assert!(reads_controlled(addr, &researcher).await, "the grant gives CONTROLLED after the restart");
    let steps = audited_steps(data);
    let approve_id = request["transitions"].as_array().unwrap().iter().find(|t| t["action"] == "accessRequest.approve").unwrap()["id"].clone();
    assert_eq!(
        steps.iter().filter(|(a, r, t)| a == "accessRequest.approve" && *r == first && *t == approve_id).count(),
        1,
        "the approval is in the log once: {steps:?}"
    );
    assert_eq!(steps.iter().filter(|(a, r, _)| a == "grant.issue" && *r == grant).count(), 1, "{steps:?}");

    let body = graphql_as(addr, Some(&researcher), SUBMIT, json!({})).await;
    let second = body["data"]["submitAccessRequest"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    approve_in_background(addr, &steward, &second);
    kill_when_paused(server, data, "before-commit").await;

    // 3. Restarted: the second approval never happened, in the store or in the log; it can be
    //    approved now, whole.
    let (_server, addr) = serve(data, None);
    let body = graphql_as(addr, Some(&steward), STATE, json!({ "id": second })).await;
    assert_eq!(body["data"]["accessRequest"]["state"], "SUBMITTED", "{body}");
    assert_eq!(body["data"]["accessRequest"]["grant"], Value::Null);
    assert_eq!(body["data"]["grants"].as_array().map(Vec::len), Some(1), "only the first grant: {body}");
    let steps = audited_steps(data);
    assert!(!steps.iter().any(|(a, r, _)| a == "accessRequest.approve" && *r == second), "{steps:?}");
    assert_eq!(steps.iter().filter(|(a, _, _)| a == "accessRequest.approve").count(), 1, "{steps:?}");
    let body = graphql_as(
        addr,
        Some(&steward),
        r#"mutation($id: ID!) { approveAccessRequest(id: $id, comment: "ok now", expires: "2999-01-01T00:00:00Z") { state grant } }"#,
        json!({ "id": second }),
    )
    .await;
    assert_eq!(body["data"]["approveAccessRequest"]["state"], "APPROVED", "{body}");
    assert_eq!(audited_steps(data).iter().filter(|(a, _, _)| a == "accessRequest.approve").count(), 2);
}
