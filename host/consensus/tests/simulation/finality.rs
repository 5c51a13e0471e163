//! Finality by simulation, for planning past one machine (issue 17): the real stack (simplex,
//! marshal, gossip, the application executing every block on redb) with 4 to 31 honest
//! validators linked by 50 ms ± 10 ms, in simulated time. A consortium runs one validator per
//! organisation on its own hardware, so what grows with the validator count is latency (more
//! votes to gather, more messages per view), not the work of each machine; the table shows how
//! much.
//!
//! A measurement, not a check (nothing here asserts a time):
//!
//! ```sh
//! cargo test --release -p vellum-consensus --test simulation finality_table -- --ignored --nocapture
//! ```
//!
//! `VELLUM_SIM_SIZES=4,7` picks the validator counts, `VELLUM_SIM_BLOCKS` the blocks measured
//! (default 40), `VELLUM_SIM_SEED` the seed (default 1), `VELLUM_SIM_DOWN=1` how many validators
//! never start (default 0): a validator down, whose views as leader time out.

use super::*;

/// A wide-area link between two organisations' data centres.
const WAN: Link = Link {
    latency: Duration::from_millis(50),
    jitter: Duration::from_millis(10),
    success_rate: probability!(1.0),
};

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok()?.parse().ok()
}

/// The q-quantile of sorted `samples`.
fn quantile(samples: &[u64], q: f64) -> u64 {
    let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples[index.min(samples.len() - 1)]
}

#[test]
#[ignore = "a measurement: run it with --ignored --nocapture (see the module's documentation)"]
fn finality_table() {
    // `RUST_LOG=vellum=debug` shows what the validators do.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let sizes: Vec<usize> = std::env::var("VELLUM_SIM_SIZES")
        .ok()
        .map(|list| {
            list.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect()
        })
        .unwrap_or_else(|| vec![4, 7, 10, 16, 31]);
    let blocks: u64 = env("VELLUM_SIM_BLOCKS").unwrap_or(40);
    let seed: u64 = env("VELLUM_SIM_SEED").unwrap_or(1);
    let down: usize = env("VELLUM_SIM_DOWN").unwrap_or(0);
    println!(
        "| validators | blocks/s | block interval p50 / max (ms) | finality p50 (ms) | finality p99 (ms) | simulated s | wall s |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for n in sizes {
        let started = std::time::Instant::now();
        let measured = measure(n, down, blocks, seed);
        println!(
            "| {n} | {:.2} | {} / {} | {} | {} | {:.1} | {:.0} |",
            measured.blocks_per_second,
            measured.interval_p50,
            measured.interval_max,
            measured.finality_p50,
            measured.finality_p99,
            measured.simulated_ms as f64 / 1000.0,
            started.elapsed().as_secs_f64()
        );
    }
}

struct Measured {
    blocks_per_second: f64,
    interval_p50: u64,
    interval_max: u64,
    finality_p50: u64,
    finality_p99: u64,
    simulated_ms: u64,
}

/// Run `n` validators, the first `down` of them never started and the rest honest, until each
/// running one has committed `blocks` blocks past the first; the latency from each block's time
/// (its proposer's clock when it built it) to its commit at each running validator, and the
/// blocks per second.
fn measure(n: usize, down: usize, blocks: u64, seed: u64) -> Measured {
    let limits = ChainLimits {
        block_time_step_max_ms: 60_000,
        block_transactions_max: BLOCK_TRANSACTIONS_MAX,
        ..ChainLimits::default()
    };
    let chain = Testnet::with_limits(n, limits);
    let target = blocks + 1;
    let config = deterministic::Config::new()
        .with_seed(seed)
        .with_timeout(Some(Duration::from_secs(3_600)));
    let committed = deterministic::Runner::new(config).start(|context| {
        let chain = &chain;
        async move {
            let mut oracle = network(&context, chain).await;
            let keys: Vec<_> = (0..n).map(|i| chain.public(i)).collect();
            link_all(&mut oracle, &keys, &WAN).await;
            let mut running = Vec::new();
            for i in down..n {
                running.push(
                    start(
                        &context,
                        &mut oracle,
                        chain,
                        i,
                        Role::Honest,
                        Limits::default(),
                    )
                    .await,
                );
            }
            let submitters: Vec<Submitter> = running
                .iter()
                .filter_map(|r| r.as_ref().map(|r| r.submitter.clone()))
                .collect();
            let _sent = client(&context, submitters, 1, chain.stores[down].clone());
            // When each running validator committed each height, sampled every simulated
            // millisecond (the ones down stay at 0 and are left out).
            let mut committed = vec![vec![0u64; target as usize + 1]; n];
            let mut seen = vec![0u64; n];
            seen[..down].fill(target);
            while seen.iter().any(|&h| h < target) {
                let now = context
                    .current()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis() as u64;
                for i in down..n {
                    let height = chain.height(i).min(target);
                    for h in seen[i] + 1..=height {
                        committed[i][h as usize] = now;
                    }
                    seen[i] = seen[i].max(height);
                }
                context.sleep(Duration::from_millis(1)).await;
            }
            drop(running);
            committed
        }
    });
    chain.assert_agreement(&(down..n).collect::<Vec<_>>());
    let time = |h: u64| {
        chain.stores[down]
            .header(h)
            .expect("read")
            .expect("header")
            .time_ms
    };
    let mut finality: Vec<u64> = (2..=target)
        .flat_map(|h| {
            let proposed = time(h);
            committed[down..]
                .iter()
                .map(move |at| at[h as usize].saturating_sub(proposed))
        })
        .collect();
    finality.sort_unstable();
    let mut intervals: Vec<u64> = (2..=target).map(|h| time(h) - time(h - 1)).collect();
    intervals.sort_unstable();
    let span = time(target) - time(1);
    Measured {
        blocks_per_second: blocks as f64 * 1000.0 / span.max(1) as f64,
        interval_p50: quantile(&intervals, 0.5),
        interval_max: intervals.last().copied().unwrap_or(0),
        finality_p50: quantile(&finality, 0.5),
        finality_p99: quantile(&finality, 0.99),
        simulated_ms: committed
            .iter()
            .map(|at| at[target as usize])
            .max()
            .unwrap_or(0),
    }
}
