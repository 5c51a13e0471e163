//! The `vellum` binary as people run it: validator processes on 127.0.0.1 (`processes`), the
//! same attacked over JSON-RPC (`attacks`), and `vellum devnet` with every JSON-RPC method, the
//! demo and the load generator (`devnet`), the explorer in headless Chromium (`explorer`), an observer beside a devnet (`observers`), private data among three organisations
//! (`private`), and
//! `vellum new contract` in a copy of the workspace (`new_contract`).
//! One test binary; each test starts a network of its own on free loopback ports.

mod attacks;
mod cli;
mod devnet;
mod explorer;
mod fuel_tables;
mod new_contract;
mod observers;
mod private;
mod processes;

/// The first of ten consecutive loopback ports that are free now (a network under test binds
/// them itself, so concurrent test runs must not pick the same ones). They lie below Linux's
/// ephemeral range (32768-60999), so no outgoing connection can take one between this check
/// and the validator's bind.
fn free_ports() -> u16 {
    let seed = std::process::id() as u64
        ^ std::time::UNIX_EPOCH
            .elapsed()
            .map_or(0, |d| d.as_nanos() as u64);
    (0..1_000u64)
        .map(|i| {
            20_000
                + ((seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(i * 7_919))
                    % 1_276) as u16
                    * 10
        })
        .find(|&base| {
            (base..base + 10).all(|port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        })
        .expect("ten free loopback ports")
}

/// Held by each test for its whole run: every test starts four validator processes, and two
/// networks at once on a small machine would measure CPU contention, not the node.
async fn one_network_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static NETWORK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    NETWORK.lock().await
}
