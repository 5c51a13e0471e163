#!/usr/bin/env python3
"""Split a frame-pointer profile of `vellum bench` into the per-stage budget of issue 17.

Usage (see BENCHMARKS.md, "Where one validator's time goes"):

    perf script -F comm,pid,time,ip,sym --time START,END -i perf.data | \
        scripts/profile-stages.py --validator PID --bench PID [--top 25]

Each sample is assigned to the first stage, in the order of STAGES, whose marker occurs in
its call chain (leaf to root); samples of the idle task count as idle. Printed: each stage's
share of all samples (both cores, so 100 % is two busy cores), and the symbols of the
samples no stage claimed, so that the rules can be refined.
"""

import argparse
import collections
import re
import sys

# (stage, substrings of a frame's symbol): the first stage with a match in the chain wins, so
# the specific come before the general.
STAGES = [
    ("signature verify (libsecp256k1)", ["verify_prehash"]),
    ("state commitment (qmdb: merkleize, root, apply)", ["vellum_ledger::commitment::", "commonware_storage::"]),
    ("durable commit (redb: block, receipts, indexes, history, state, fsync)", ["Store::commit_on", "Store::commit_sealed", "Store::write_block", "store::index_events"]),
    ("build and execute blocks (wasm, host calls, overlay, roots)", ["Executor::run_block", "Executor::build", "Executor::execute", "Chain::build", "vellum_runtime::", "wasmtime"]),
    ("entry check and pool insert", ["Chain::submit", "check_entry", "Mempool::insert", "Submitter::submit"]),
    ("after a commit: pool update, subscribers woken", ["vellum_consensus::finalizer::", "Mempool::committed", "Store::next_nonces"]),
    ("blocks and receipts served to subscribers (JSON)", ["vellum_rpc::json::", "vellum_rpc::subscriptions::"]),
    ("gossip", ["vellum_consensus::gossip::"]),
    ("JSON-RPC ingress (HTTP, JSON-RPC framing, hex, borsh)", ["jsonrpsee", "hyper", "vellum_rpc::", "tower", "unhex", "SignedTransaction::decode"]),
    ("consensus (simplex, marshal, p2p, ed25519)", ["commonware_consensus", "commonware_p2p", "commonware_broadcast", "commonware_resolver", "commonware_cryptography", "commonware_stream", "vellum_consensus::"]),
    ("async runtime, allocator, kernel (no caller above)", ["tokio::", "mio::", "futures_", "malloc", "free", "memcpy", "memmove", "epoll", "syscall", "entry_SYSCALL"]),
]


def parse(stream):
    """Yield (comm, pid, frames) per sample of `perf script` output."""
    header = re.compile(r"^\s*(\S.*?)\s+(\d+)\s+[\d.]+:")
    comm, pid, frames = None, None, []
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if comm is not None:
                yield comm, pid, frames
            comm, pid, frames = None, None, []
            continue
        match = header.match(line)
        if match and not line.startswith(("\t", " " * 8)):
            comm, pid, frames = match.group(1), int(match.group(2)), []
            continue
        parts = line.strip().split(None, 1)
        frames.append(parts[1] if len(parts) > 1 else parts[0])
    if comm is not None:
        yield comm, pid, frames


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--validator", type=int, required=True, help="the validator's process id")
    parser.add_argument("--bench", type=int, required=True, help="the load generator's process id")
    parser.add_argument("--top", type=int, default=25, help="unclaimed leaf symbols to list")
    args = parser.parse_args()

    counts = collections.Counter()
    unclaimed = collections.Counter()
    total = 0
    for comm, pid, frames in parse(sys.stdin):
        total += 1
        if pid == 0:
            counts["idle"] += 1
        elif pid == args.bench:
            counts["load generator (vellum bench, not the node)"] += 1
        elif pid != args.validator:
            counts["other processes"] += 1
        else:
            for stage, markers in STAGES:
                if any(marker in frame for frame in frames for marker in markers):
                    counts[stage] += 1
                    break
            else:
                counts["validator, other"] += 1
                unclaimed[frames[0] if frames else "?"] += 1
    if total == 0:
        sys.exit("no samples")
    print(f"{total} samples")
    print("| stage | share of both cores |")
    print("|---|---:|")
    for stage, count in counts.most_common():
        print(f"| {stage} | {100 * count / total:.1f} % |")
    print()
    print("unclaimed validator samples by leaf symbol:")
    for symbol, count in unclaimed.most_common(args.top):
        print(f"  {100 * count / total:5.2f} %  {symbol}")


if __name__ == "__main__":
    main()
