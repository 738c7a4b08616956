//! What many of these tests do with a hub: harvest every source (the test fails on the first
//! source that fails, naming it) and serve it on a loopback port.

#![allow(dead_code)] // each test binary uses what it needs

use std::net::SocketAddr;

use musubi_gateway::app::App;

/// Harvests every source of `app`; a source that fails fails the test.
pub async fn harvest_all(app: &App) {
    for (source, outcome) in app.harvest(&[]).await {
        outcome.unwrap_or_else(|e| panic!("{source} failed: {e}"));
    }
}

/// Serves `app` on a free loopback port, in the background; its address.
pub async fn serve(app: App) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, musubi_gateway::http::router(app)).await.expect("serve") });
    addr
}
