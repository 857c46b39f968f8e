# SPDX-License-Identifier: GPL-2.0-or-later
"""Spaces: ward up / ward down / ward ps / ward gc (docs/spaces.md).

Run on its own, as root:
    WARD=build/src/ward WARD_HELPERS=build/tests/helpers \\
        python3 -m pytest tests/network/test_space.py

Every test uses its own --state-dir under a fresh directory of /var/tmp, so
/run/ward is never touched.  The only addresses contacted are those ward
gives the test's environments (WARD_NET_RANGE, inside ward0) and 127.0.0.1
of the host for a published port.  The finalizer runs `ward down` for every
space the test started, kills what is left of it, and removes the directory,
also when a test fails.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from netlib import wv_links

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
WARD = os.path.realpath(os.environ.get("WARD", os.path.join(REPO, "build", "src", "ward")))
TIMEOUT = 60

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not os.access(WARD, os.X_OK) or not os.access("/usr/sbin/nft", os.X_OK),
    reason="needs root, the ward binary ($WARD) and /usr/sbin/nft")

# A TCP server on every port given: answers with its tag and logs whom it
# accepted ("accepted PORT"), so a test can tell that nothing arrived.
SERVER = r"""
import selectors, socket, sys
tag, ports = sys.argv[1], [int(p) for p in sys.argv[2:] if p.isdigit()]
sel = selectors.DefaultSelector()
for p in ports:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", p))
    s.listen(8)
    sel.register(s, selectors.EVENT_READ, p)
print("listening", *ports, flush=True)
while True:
    for key, _ in sel.select():
        c, a = key.fileobj.accept()
        print("accepted", key.data, flush=True)
        c.sendall(tag.encode())
        c.close()
"""

# Tries each HOST:PORT once and prints "HOST:PORT ok TAG" or
# "HOST:PORT fail ERROR"; then stays up (ward down ends it).
CLIENT = r"""
import socket, sys, time
for target in [a for a in sys.argv[1:] if ":" in a]:
    host, port = target.rsplit(":", 1)
    try:
        s = socket.create_connection((host, int(port)), timeout=3)
        s.settimeout(3)
        print(target, "ok", s.recv(100).decode(), flush=True)
    except OSError as e:
        print(target, "fail", type(e).__name__, e.errno, flush=True)
print("done", flush=True)
time.sleep(600)
"""

# No network entitlement: the interfaces it sees and what socket(AF_INET) does.
PLAIN = r"""
import os, socket, time
print("links", ",".join(sorted(os.listdir("/sys/class/net"))), flush=True)
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    print("inet ok", flush=True)
except OSError as e:
    print("inet errno", e.errno, flush=True)
time.sleep(600)
"""

SLEEP = "import time; time.sleep(600)"


def toml_list(items):
    return "[" + ", ".join(json.dumps(str(i)) for i in items) + "]"


def py(prog, *args):
    """command = [...] running python3 -c PROG ARGS."""
    return toml_list(["/usr/bin/python3", "-c", prog, *args])


def nft_elements():
    """Every IPv4 address in an element of a set or map of ward's table."""
    r = subprocess.run(["/usr/sbin/nft", "list", "table", "ip", "ward_nat"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    if r.returncode != 0:
        return set()
    out = set()
    for block in re.findall(r"elements\s*=\s*\{([^}]*)\}", r.stdout, re.S):
        out |= set(re.findall(r"\d+\.\d+\.\d+\.\d+", block))
    return out


def proc_start(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    rest = stat[stat.rfind(")") + 2:].split()
    return None if rest[0] == "Z" else int(rest[19])


def processes_with(marker):
    """Live processes whose command line holds marker."""
    out = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if marker.encode() in cmd and proc_start(int(name)) is not None:
            out.add(int(name))
    return out


def wait_for(pred, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return pred()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Spaces:
    def __init__(self, tmp):
        self.tmp = tmp
        self.state = os.path.join(tmp, "state")
        # In every environment's command line: finds what a test left.
        self.marker = "wardspacetest-" + os.path.basename(tmp)
        self.names = set()

    def write(self, name, text, file=None):
        path = os.path.join(self.tmp, file or f"{name}.toml")
        with open(path, "w") as f:
            f.write(f'name = "{name}"\n\n' + text if name else text)
        return path

    def ward(self, *args, timeout=TIMEOUT):
        return subprocess.run([WARD, *args], capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def up(self, path, name):
        self.names.add(name)
        return self.ward("up", "--state-dir", self.state, path)

    def down(self, name):
        return self.ward("down", "--state-dir", self.state, "--timeout", "5", name)

    def ps(self):
        r = self.ward("ps", "--json", "--state-dir", self.state)
        assert r.returncode == 0, r
        return [row for row in json.loads(r.stdout) if "space" in row]

    def envs(self, name):
        """{env: (pid, starttime, init, init_starttime, address)} from the state."""
        out = {}
        with open(os.path.join(self.state, "spaces", name, "envs")) as f:
            for line in f:
                env, pid, start, init, istart, addr = line.split()
                out[env] = (int(pid), int(start), int(init), int(istart), addr)
        return out

    def log(self, name, env):
        try:
            with open(os.path.join(self.state, "spaces", name, f"{env}.log")) as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, name, env, needle, timeout=20):
        assert wait_for(lambda: needle in self.log(name, env), timeout), \
            f"{needle!r} not in {env}.log: {self.log(name, env)!r}"
        return self.log(name, env)

    def space_dir(self, name):
        return os.path.join(self.state, "spaces", name)


@pytest.fixture
def spaces(request):
    tmp = os.path.realpath(tempfile.mkdtemp(prefix="ward-space-", dir="/var/tmp"))
    os.chmod(tmp, 0o755)
    sp = Spaces(tmp)

    def cleanup():
        for name in sp.names:
            pids = []
            try:
                pids = [(v[0], v[1]) for v in sp.envs(name).values()] + \
                       [(v[2], v[3]) for v in sp.envs(name).values()]
            except OSError:
                pass
            try:
                sp.down(name)
            except subprocess.TimeoutExpired:
                pass
            for pid, start in pids:
                if pid > 0 and proc_start(pid) == start:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
        for pid in processes_with(sp.marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            sp.ward("gc", "--state-dir", sp.state)
        except subprocess.TimeoutExpired:
            pass
        # Environments with a broker entitlement started the state
        # directory's broker on demand.
        try:
            sp.ward("broker", "--stop", "--state-dir", sp.state)
        except subprocess.TimeoutExpired:
            pass
        shutil.rmtree(tmp, ignore_errors=True)

    request.addfinalizer(cleanup)
    return sp


def talk_space(sp, name, third=True):
    """db listens on 5432 and 22; web may talk to db:5432 only; other
    listens on 7000 and is nobody's peer."""
    text = f"""
[env.db]
command = {py(SERVER, name, "5432", "22", sp.marker)}
allow = ["network.listen=5432", "network.listen=22"]
wait = "listen"
"""
    targets = ["db:5432", "db:22"]
    if third:
        text += f"""
[env.other]
command = {py(SERVER, "other", "7000", sp.marker)}
allow = ["network.listen=7000"]
wait = "listen"
"""
        targets.append("other:7000")
    text += f"""
[env.web]
command = {py(CLIENT, *targets, sp.marker)}
talk-to = ["db:5432"]
env = ["MARK={sp.marker}"]
"""
    return sp.write(name, text)


def results(log):
    return {l.split()[0]: l.split()[1:] for l in log.splitlines()
            if l and l.split()[0].count(":") == 1}


def test_web_reaches_only_the_granted_port(spaces):
    sp = spaces
    path = talk_space(sp, "shop")
    r = sp.up(path, "shop")
    assert r.returncode == 0, r
    # One line per environment: name, address, pid.
    for env in ("db", "other", "web"):
        assert re.search(rf"\b{env}\b.*\d+\.\d+\.\d+\.\d+.*pid \d+", r.stdout), r
    log = sp.wait_log("shop", "web", "done")
    res = results(log)
    assert res["db:5432"][:2] == ["ok", "shop"], log
    assert res["db:22"][0] == "fail", log
    assert res["other:7000"][0] == "fail", log
    # Nothing arrived where nothing was granted.
    assert "accepted 22" not in sp.log("shop", "db")
    assert "accepted" not in sp.log("shop", "other")
    assert "accepted 5432" in sp.log("shop", "db")
    # ward ps: every environment running, with its address.
    rows = {row["name"]: row for row in sp.ps() if row["space"] == "shop"}
    assert set(rows) == {"db", "other", "web"}
    assert all(row["state"] == "running" and row["address"] for row in rows.values()), rows
    text = sp.ward("ps", "--state-dir", sp.state).stdout
    assert re.search(r"shop\s+web\s+\d+\s+\S+\s+running", text), text


def test_env_without_network_has_only_lo(spaces):
    sp = spaces
    path = sp.write("plain", f"""
[env.solo]
command = {py(PLAIN, sp.marker)}
""")
    r = sp.up(path, "plain")
    assert r.returncode == 0, r
    log = sp.wait_log("plain", "solo", "inet ")
    assert "links lo\n" in log, log
    assert "inet errno 1" in log, log  # EPERM
    assert sp.ps()[0]["address"] is None


def test_published_port_is_reachable_from_the_host(spaces):
    sp = spaces
    port = free_port()
    path = sp.write("pub", f"""
[env.srv]
command = {py(SERVER, "published", "8000", sp.marker)}
allow = ["network.listen=8000"]
publish = ["{port}:8000"]
wait = "listen"
""")
    r = sp.up(path, "pub")
    assert r.returncode == 0, r
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.settimeout(5)
    assert s.recv(100) == b"published"
    s.close()


def test_down_leaves_nothing(spaces):
    sp = spaces
    links, elems = wv_links(), nft_elements()
    path = talk_space(sp, "gone", third=False)
    r = sp.up(path, "gone")
    assert r.returncode == 0, r
    sp.wait_log("gone", "web", "done")
    envs = sp.envs("gone")
    addrs = {v[4] for v in envs.values()}
    assert addrs <= nft_elements(), (addrs, nft_elements())
    assert {f"wv{v[0]}" for v in envs.values()} <= wv_links()
    assert sp.ward("up", "--state-dir", sp.state, path).returncode != 0  # already up
    r = sp.down("gone")
    assert r.returncode == 0, r
    assert not os.path.exists(sp.space_dir("gone"))
    assert wv_links() <= links
    assert not (addrs & (nft_elements() - elems)), nft_elements()
    for pid, start, init, istart, _ in envs.values():
        assert proc_start(pid) != start
        assert proc_start(init) != istart
    assert wait_for(lambda: not processes_with(sp.marker), 5), processes_with(sp.marker)
    assert sp.ps() == []
    # Again: nothing to stop, and the message says where to look.
    r = sp.down("gone")
    assert r.returncode != 0 and "ward ps" in r.stderr, r


def test_two_spaces_with_the_same_env_names(spaces):
    sp = spaces
    a = talk_space(sp, "one", third=False)
    b = talk_space(sp, "two", third=False)
    ra = sp.up(a, "one")
    rb = sp.up(b, "two")
    assert ra.returncode == 0, ra
    assert rb.returncode == 0, rb
    # Each web reached its own db.
    assert results(sp.wait_log("one", "web", "done"))["db:5432"][:2] == ["ok", "one"]
    assert results(sp.wait_log("two", "web", "done"))["db:5432"][:2] == ["ok", "two"]
    ea, eb = sp.envs("one"), sp.envs("two")
    assert {v[4] for v in ea.values()}.isdisjoint({v[4] for v in eb.values()})
    assert sp.down("one").returncode == 0
    # The other space is untouched.
    rows = [row for row in sp.ps() if row["space"] == "two"]
    assert len(rows) == 2 and all(row["state"] == "running" for row in rows), rows
    assert sp.down("two").returncode == 0


BROKER_HELPERS = os.path.realpath(os.environ.get(
    "WARD_BROKER_HELPERS", os.path.join(REPO, "build", "tests", "broker")))


def test_environments_talk_through_mailboxes(spaces):
    """Issue 11 item 14: an environment with a broker entitlement starts
    (ward up's notify descriptor is no longer closed by the broker's fd 3),
    is registered under its name, and a message from another environment of
    the space is delivered to its mailbox."""
    msg = os.path.join(BROKER_HELPERS, "ward-msg")
    if not os.access(msg, os.X_OK):
        pytest.skip(f"ward-msg not found in {BROKER_HELPERS} (set WARD_BROKER_HELPERS)")
    sp = spaces
    grant = f"fs.exec={BROKER_HELPERS}"
    path = sp.write("mail", f"""
[env.rx]
command = {toml_list(["/bin/sh", "-c", f"{msg} recv --from --timeout 30000; sleep 600",
                      sp.marker])}
allow = ["ipc.recv", "{grant}"]

[env.tx]
command = {toml_list(["/bin/sh", "-c", f"{msg} send rx hello-from-tx; echo sent=$?; sleep 600",
                      sp.marker])}
allow = ["ipc.send=rx", "{grant}"]
""")
    r = sp.up(path, "mail")
    assert r.returncode == 0, r
    assert "sent=0" in sp.wait_log("mail", "tx", "sent=")
    log = sp.wait_log("mail", "rx", "hello-from-tx")
    assert "tx" in log, log
    rows = {row["name"]: row["state"] for row in sp.ps() if row["space"] == "mail"}
    assert rows == {"rx": "running", "tx": "running"}, rows
    assert sp.down("mail").returncode == 0


def test_bad_space_file_names_the_line(spaces):
    sp = spaces
    links = wv_links()
    path = sp.write("bad", """
[env.a]
command = ["/usr/bin/true"]
allow = ["network.lisen=5"]
""")
    r = sp.up(path, "bad")
    assert r.returncode == 2, r
    assert r.stderr.startswith("ward: ") and "bad.toml:6:" in r.stderr, r
    assert not os.path.exists(sp.space_dir("bad"))
    assert wv_links() <= links


def test_failing_env_stops_the_space(spaces):
    sp = spaces
    links, elems = wv_links(), nft_elements()
    path = sp.write("broken", f"""
[env.db]
command = {py(SERVER, "db", "5432", sp.marker)}
allow = ["network.listen=5432"]
wait = "listen"

[env.web]
command = {py("import sys; print('giving up', flush=True); sys.exit(3)", sp.marker)}
talk-to = ["db"]
""")
    # Watch the state while ward up runs: the addresses it hands out.
    sp.names.add("broken")
    p = subprocess.Popen([WARD, "up", "--state-dir", sp.state, path], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    addrs = set()
    try:
        while p.poll() is None:
            try:
                addrs |= {v[4] for v in sp.envs("broken").values() if v[4] != "-"}
            except (OSError, ValueError):
                pass
            time.sleep(0.01)
        out, err = p.communicate(timeout=TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 1, (out, err)
    assert "environment web did not start" in err and "giving up" in err, err
    assert not os.path.exists(sp.space_dir("broken"))
    assert wait_for(lambda: not processes_with(sp.marker), 5), processes_with(sp.marker)
    assert wv_links() <= links
    assert addrs, "ward up recorded no address"
    assert not (addrs & (nft_elements() - elems)), (addrs, nft_elements())


def test_gc_after_killed_supervisors(spaces):
    sp = spaces
    links, elems = wv_links(), nft_elements()
    path = talk_space(sp, "killed", third=False)
    r = sp.up(path, "killed")
    assert r.returncode == 0, r
    sp.wait_log("killed", "web", "done")
    envs = sp.envs("killed")
    for pid, start, _, _, _ in envs.values():
        if proc_start(pid) == start:
            os.kill(pid, signal.SIGKILL)
    # The sandboxes die with their supervisors (parent-death signal).
    assert wait_for(lambda: not processes_with(sp.marker)), processes_with(sp.marker)
    rows = [row for row in sp.ps() if row["space"] == "killed"]
    assert rows and all(row["state"] == "exited" for row in rows), rows
    r = sp.ward("gc", "--state-dir", sp.state)
    assert r.returncode == 0, r
    assert "removed space killed" in r.stdout, r
    assert not os.path.exists(sp.space_dir("killed"))
    addrs = {v[4] for v in envs.values()}
    assert not (addrs & (nft_elements() - elems)), nft_elements()
    assert wait_for(lambda: wv_links() <= links, 5), wv_links() - links


def test_unknown_space(spaces):
    r = spaces.down("nosuch")
    assert r.returncode != 0 and "ward ps" in r.stderr, r
