#!/usr/bin/python3
"""Interleaved A/B of start-up times: ROUNDS rounds, each running every
command once (in alternating order), after 5 warm-up runs of each; prints
medians, quartiles and the ratio to the LAST command (the floor).

    bench/interleave.py 150 "old/ward run -- /bin/true" \\
        "build/src/ward run -- /bin/true" \\
        "/usr/bin/unshare -Urmnpiuf --mount-proc /bin/true"

Commands are split with shlex and need absolute paths; leading NAME=VALUE
words are put in that command's environment (no extra exec, as env(1)
would add); output goes to /dev/null; a command that fails stops the run.
Interleaving keeps a machine whose load drifts from favouring whichever
command ran last.
"""
import os
import shlex
import statistics as st
import sys
import time


def one(cmd, devnull):
    env = os.environ
    while cmd and "=" in cmd[0] and not cmd[0].startswith("/"):
        if env is os.environ:
            env = dict(os.environ)
        name, value = cmd[0].split("=", 1)
        env[name] = value
        cmd = cmd[1:]
    t = time.perf_counter()
    pid = os.posix_spawn(cmd[0], cmd, env,
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1),
                                       (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status = os.waitpid(pid, 0)
    elapsed = (time.perf_counter() - t) * 1e3
    if status != 0:
        sys.exit(f"interleave.py: {' '.join(cmd)} failed (wait status {status})")
    return elapsed


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rounds = int(sys.argv[1])
    cmds = [shlex.split(c) for c in sys.argv[2:]]
    devnull = os.open("/dev/null", os.O_RDWR)
    times = [[] for _ in cmds]
    for c in cmds:
        for _ in range(5):
            one(c, devnull)
    for i in range(rounds):
        order = list(range(len(cmds)))
        if i % 2:
            order.reverse()
        for k in order:
            times[k].append(one(cmds[k], devnull))
    floor = st.median(times[-1])
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"load {load}, {rounds} rounds")
    for c, t in zip(cmds, times):
        m = st.median(t)
        q = st.quantiles(t, n=4)
        print(f"  {m:7.2f} ms (IQR {q[0]:.2f}-{q[2]:.2f}) {m / floor:5.2f}x  {' '.join(c)}")


if __name__ == "__main__":
    main()
