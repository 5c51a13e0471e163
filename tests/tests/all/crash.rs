//! Crash safety: a node killed with SIGKILL in the middle of committing blocks, again and again,
//! loses no block it reported committed, shows nothing partial, and its state is exactly what
//! re-executing its blocks from genesis produces.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};
use vellum_ledger::{testing::genesis, Executor, Proposal, Store};
use vellum_runtime::RuntimeConfig;
use vellum_types::{hex, DeployPolicy};

/// Kills per run; with the delays below the writer commits a few to a few dozen blocks each time.
const KILLS: u64 = 12;

/// Delays before each kill, from a fixed-seed generator so a failure replays exactly.
fn delays() -> impl Iterator<Item = Duration> {
    let mut state: u64 = 0x5eed_cafe;
    std::iter::repeat_with(move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Duration::from_millis(300 + (state >> 33) % 900)
    })
}

#[test]
fn killed_during_commits_recovers_every_reported_block_and_nothing_partial() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("ledger.redb");
    let genesis = genesis(DeployPolicy::AnyAdmin);
    let mut reported: BTreeMap<u64, String> = BTreeMap::new();

    for delay in delays().take(KILLS as usize) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ledger-writer"))
            .arg(dir.path())
            .arg("1000000")
            .stdout(Stdio::piped())
            .spawn()
            .expect("writer starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<_>>()
        });
        std::thread::sleep(delay);
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        for line in reader.join().expect("reader") {
            let mut parts = line.split_whitespace();
            if let (Some("committed"), Some(height), Some(root)) =
                (parts.next(), parts.next(), parts.next())
            {
                reported.insert(height.parse().expect("height"), root.to_string());
            }
        }

        // Every reported block is there, with the reported state root; nothing beyond the head.
        let store = Store::open(&path, &genesis).expect("the store reopens after SIGKILL");
        let height = store.height().expect("height");
        let last = reported.keys().next_back().copied().unwrap_or(0);
        assert!(
            height >= last,
            "reported {last} committed, store is at {height}"
        );
        for (h, root) in reported.range(..=height) {
            let header = store
                .header(*h)
                .expect("read")
                .expect("reported block present");
            assert_eq!(&hex(&header.state_root), root, "state root of block {h}");
        }
        assert!(
            store.block(height + 1).expect("read").is_none(),
            "a block past the head is visible"
        );
    }
    assert!(
        reported.len() as u64 > KILLS,
        "the writer committed too little to test anything: {}",
        reported.len()
    );

    // Replaying every committed block from genesis on a fresh store reproduces each header and the
    // whole state.
    let store = Store::open(&path, &genesis).expect("reopen");
    let fresh_dir = tempfile::tempdir().expect("temporary directory");
    let executor = Executor::new(genesis.clone(), RuntimeConfig::default()).expect("executor");
    let fresh = Store::open(&fresh_dir.path().join("ledger.redb"), &genesis).expect("fresh store");
    let height = store.height().expect("height");
    for h in 1..=height {
        let block = store.block(h).expect("read").expect("block");
        let header = block.header.clone();
        let executed = executor
            .execute(&fresh, Proposal::replay(block))
            .expect("a committed block re-executes");
        assert_eq!(
            executed.block.header, header,
            "block {h} re-executes to the same header"
        );
        assert_eq!(
            executed.receipts,
            store.receipts(h).expect("receipts"),
            "block {h} receipts"
        );
        fresh.commit(&executed).expect("commit");
    }
    assert_eq!(
        fresh.state_entries().expect("state"),
        store.state_entries().expect("state")
    );
    eprintln!("{height} blocks committed across {KILLS} kills; all replayed to identical headers and state");
}
