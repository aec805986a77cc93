#!/usr/bin/env python3
"""A durable callback's round trip, stage by stage (see Benchmarks/README.md, "How to reproduce").

Runs `openidd-bench compare --only callbacks` and, while wrk drives the callback port, records the
system calls of the daemon and of wrk with `perf record` (tracepoints, not sampling), matches wrk's
sockets to the daemon's through /proc/net/tcp, and prints how long each callback spent in each stage:

    the loop reads the request -> the sync thread writes the batch that holds it -> fdatasync returns
    -> the loop sends the answer -> wrk reads it -> wrk writes its next request -> the loop reads it

and then where the ledger's sync thread spends one cycle (from one fdatasync's return to the next's):
running the batch's completions, blocked (waiting for lines, or for a lock), writing, and syncing.

Needs root (tracepoints) and perf (Debian's linux-perf). Tracing slows every system call a little, so
the rates it runs at are a little lower than an untraced run's.

    python3 Benchmarks/roundtrip.py [--openidd PATH] [--bench PATH] [--window SECONDS]
"""

import argparse
import bisect
import collections
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EVENTS = [
    "syscalls:sys_enter_recvfrom",
    "syscalls:sys_enter_sendto",
    "syscalls:sys_enter_pwrite64",
    "syscalls:sys_enter_fdatasync",
    "syscalls:sys_exit_fdatasync",
    "syscalls:sys_enter_futex",
    "syscalls:sys_exit_futex",
    "syscalls:sys_enter_read",
    "syscalls:sys_enter_write",
]


def wait_for(predicate, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    sys.exit(f"roundtrip: gave up waiting for {what}")


def pgrep(pattern):
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
    return found[0] if found else None


def socket_ports():
    """Socket inode -> (local port, remote port), from /proc/net/tcp (IPv4 loopback is what wrk uses)."""
    ports = {}
    with open("/proc/net/tcp") as table:
        next(table)
        for row in table:
            fields = row.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            ports[inode] = (int(local.split(":")[1], 16), int(remote.split(":")[1], 16))
    return ports


def connections(pid, ports, server_side):
    """fd -> connection key (client port, server port) for every TCP socket of `pid`."""
    keys = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        match = re.match(r"socket:\[(\d+)\]", target)
        if not match or match.group(1) not in ports:
            continue
        local, remote = ports[match.group(1)]
        keys[int(fd)] = (remote, local) if server_side else (local, remote)
    return keys


def parse(script_output):
    """(time, comm, event, fd or None, rest of the line), in time order."""
    events = []
    line_format = re.compile(r"\s*(\S.*?)\s+\d+\s+\[\d+\]\s+([\d.]+):\s+(\S+):\s*(.*)")
    for line in script_output.splitlines():
        match = line_format.match(line)
        if not match:
            continue
        comm, stamp, event, rest = match.groups()
        fd = re.match(r"fd: (0x[0-9a-f]+)", rest)
        events.append((float(stamp), comm, event.split(":")[1], int(fd.group(1), 16) if fd else None, rest))
    events.sort(key=lambda event: event[0])
    return events


def stages(events, daemon_fds, wrk_fds):
    writes = [t for t, comm, event, _, _ in events if event == "sys_enter_pwrite64"]
    synced = [t for t, comm, event, _, _ in events if event == "sys_exit_fdatasync"]
    seen = collections.defaultdict(dict)  # connection -> the last time of each step
    spans = collections.defaultdict(list)
    for t, comm, event, fd, _ in events:
        if comm.startswith("loop") and event in ("sys_enter_recvfrom", "sys_enter_sendto"):
            key = daemon_fds.get(fd)
            if key is None:
                continue
            steps = seen[key]
            if event == "sys_enter_recvfrom":
                if "wrk wrote" in steps:
                    spans["wrk writes -> the loop reads it"].append(t - steps["wrk wrote"])
                steps.clear()
                steps["read"] = t
            else:
                if "read" in steps:
                    # The batch that carried this callback: the last sync to finish before the answer,
                    # and the write that began it. A write before the request was read is a mismatch.
                    done = bisect.bisect_left(synced, t) - 1
                    if done >= 0:
                        began = bisect.bisect_left(writes, synced[done]) - 1
                        if began >= 0 and writes[began] >= steps["read"]:
                            spans["loop reads -> the batch is written"].append(writes[began] - steps["read"])
                            spans["pwrite -> fdatasync returns"].append(synced[done] - writes[began])
                            spans["fdatasync returns -> the loop sends"].append(t - synced[done])
                steps["sent"] = t
        elif comm == "wrk" and event in ("sys_enter_read", "sys_enter_write"):
            key = wrk_fds.get(fd)
            if key is None:
                continue
            steps = seen[key]
            if event == "sys_enter_read" and "sent" in steps and "wrk read" not in steps:
                spans["the loop sends -> wrk reads"].append(t - steps["sent"])
                steps["wrk read"] = t
            elif event == "sys_enter_write" and "wrk read" in steps and "wrk wrote" not in steps:
                spans["wrk reads -> wrk writes the next"].append(t - steps["wrk read"])
                steps["wrk wrote"] = t
    return spans


def sync_cycles(events):
    """Per cycle of the sync thread (fdatasync returns -> the next returns), how long each part took.

    Blocked is time inside futex waits: for lines to arrive, or for a lock.
    """
    parts = collections.defaultdict(list)
    cycle = None
    for t, comm, event, _, rest in events:
        if comm != "ledger-sync":
            continue
        if event == "sys_exit_fdatasync":
            if cycle and "write" in cycle and "sync" in cycle:
                parts["whole cycle"].append(t - cycle["start"])
                parts["running (completions, taking the batch)"].append(
                    cycle["write"] - cycle["start"] - cycle["blocked"])
                parts["blocked: waiting for lines or a lock"].append(cycle["blocked"])
                parts["pwrite"].append(cycle["sync"] - cycle["write"])
                parts["fdatasync"].append(t - cycle["sync"])
            cycle = {"start": t, "blocked": 0.0}
        elif cycle is None:
            continue
        elif event == "sys_enter_futex" and "write" not in cycle:
            cycle["futex"] = t
        elif event == "sys_exit_futex" and "futex" in cycle:
            cycle["blocked"] += t - cycle.pop("futex")
        elif event == "sys_enter_pwrite64" and "write" not in cycle:
            cycle["write"] = t
        elif event == "sys_enter_fdatasync" and "write" in cycle:
            cycle["sync"] = t
    return parts


def table(title, names, spans):
    print(f"{title:40s} {'count':>7s} {'mean':>8s} {'p10':>8s} {'p50':>8s} {'p90':>8s}")
    total = 0.0
    for name in names:
        values = sorted(spans.get(name, []))
        if not values:
            print(f"{name:40s} {0:7d}")
            continue
        mean = sum(values) / len(values)
        total += mean
        pick = lambda q: values[min(int(len(values) * q), len(values) - 1)] * 1e6
        print(f"{name:40s} {len(values):7d} {mean * 1e6:6.0f}µs {pick(0.1):6.0f}µs {pick(0.5):6.0f}µs {pick(0.9):6.0f}µs")
    return total


def main():
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    release = os.path.join(HERE, "..", ".build", "release")
    options.add_argument("--openidd", default=os.path.join(release, "openidd"))
    options.add_argument("--bench", default=os.path.join(release, "openidd-bench"))
    options.add_argument("--window", type=float, default=0.4, help="seconds of tracing")
    arguments = options.parse_args()
    openidd = os.path.abspath(arguments.openidd)
    bench = os.path.abspath(arguments.bench)

    with tempfile.TemporaryDirectory() as work:
        output = open(os.path.join(work, "bench.out"), "w+")
        run = subprocess.Popen(
            [bench, "compare", "--seconds", "6", "--only", "callbacks", "--openidd", openidd],
            stdout=output, stderr=subprocess.STDOUT)
        daemon = wait_for(lambda: pgrep(f"{openidd} --config"), 120, "the daemon")
        # The daemon starts after nginx's round; its wrk is the callback one. Let it settle first.
        time.sleep(3)
        wrk = wait_for(lambda: pgrep("^wrk .*callbacks.lua"), 10, "wrk")
        ports = socket_ports()
        daemon_fds = connections(daemon, ports, server_side=True)
        wrk_fds = connections(wrk, ports, server_side=False)
        record = os.path.join(work, "perf.data")
        subprocess.run(
            ["perf", "record", "-q", "-a", "-o", record]
            + [part for event in EVENTS for part in ("-e", event)]
            + ["--", "sleep", str(arguments.window)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        run.wait()
        script = subprocess.run(
            ["perf", "script", "-i", record, "-F", "comm,tid,cpu,time,event,trace"],
            capture_output=True, text=True).stdout
        output.seek(0)
        summary = [line.rstrip() for line in output if "durable callbacks" in line]

    events = parse(script)
    spans = stages(events, daemon_fds, wrk_fds)
    print(summary[0].strip() if summary else "(no bench summary)")
    order = [
        "loop reads -> the batch is written",
        "pwrite -> fdatasync returns",
        "fdatasync returns -> the loop sends",
        "the loop sends -> wrk reads",
        "wrk reads -> wrk writes the next",
        "wrk writes -> the loop reads it",
    ]
    total = table("stage", order, spans)
    print(f"{'round trip (sum of the means)':40s} {'':7s} {total * 1e6:6.0f}µs")
    print()
    cycles = sync_cycles(events)
    table("the sync thread's cycle", ["whole cycle"], cycles)
    table(
        "  of which",
        [
            "running (completions, taking the batch)",
            "blocked: waiting for lines or a lock",
            "pwrite",
            "fdatasync",
        ],
        cycles)


if __name__ == "__main__":
    main()
