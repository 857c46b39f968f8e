# SPDX-License-Identifier: GPL-2.0-or-later
"""A private RabbitMQ node for the tests of mailboxes across hosts
(docs/remote.md), and brokers that stand in for hosts.

The node is Debian's rabbitmq-server, started once per test session as the
`rabbitmq` user, with its own node name, AMQP, distribution and epmd ports
(from 45000-45999), and its data, logs, config and definitions in a
directory of its own under /var/tmp (owned by rabbitmq: the server drops to
it).  epmd is started by us in the foreground on its own port, so that
nothing outlives the session: the node runs in a session of its own and is
stopped by its process group, epmd by its pid.

Two users, one per host (ward-a, ward-b), may read only their own host's
queue: per-host credentials, as the docs advise.

The tests are skipped with the reason when rabbitmq-server is not
installed or does not start here.
"""

import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from brokerlib import Broker, exited, wait_for

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"


def _port_free(p):
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "0.0.0.0")):
        s = socket.socket(fam, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, p))
        except OSError:
            return False
        finally:
            s.close()
    return True


def _pick_ports():
    """Four free ports in 45000-45999 (AMQP, distribution, epmd, AMQP over TLS)."""
    start = 45000 + (os.getpid() * 7) % 900
    for base in list(range(start, 45996, 4)) + list(range(45000, start, 4)):
        ports = (base, base + 1, base + 2, base + 3)
        if all(_port_free(p) for p in ports):
            return ports
    pytest.skip("no four free ports in 45000-45999 for RabbitMQ")


def _hash(password):
    # rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


class RabbitMQ:
    def __init__(self):
        self.dir = os.path.realpath(tempfile.mkdtemp(prefix="ward-rmq-", dir="/var/tmp"))
        os.chmod(self.dir, 0o755)
        self.port, self.dist, self.epmd_port, self.tls_port = _pick_ports()
        self.node = f"wardmq{os.getpid()}@localhost"
        self.pid = None
        self._sid = None
        self.epmd = None
        self.users = {h: (f"ward-{h}", base64.b32encode(os.urandom(10)).decode().lower())
                      for h in ("a", "b", "c")}
        self.env = None

    def url(self, host, user=None, password=None):
        u, p = self.users[host]
        return f"amqp://{user or u}:{password or p}@127.0.0.1:{self.port}/"

    def tls_url(self, host):
        """amqps to "localhost", the name in the node's certificate."""
        u, p = self.users[host]
        return f"amqps://{u}:{p}@localhost:{self.tls_port}/"

    def _make_certs(self):
        """A CA of the session's and the node's certificate for localhost."""
        d = os.path.join(self.dir, "tls")
        os.makedirs(d, exist_ok=True)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run = lambda *a: subprocess.run(["openssl", *a], cwd=d, check=True,
                                        capture_output=True)
        run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=ward test CA")
        run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
        with open(os.path.join(d, "san.ext"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
        # A second CA that signed nothing here: trusting it must fail.
        run("req", "-x509", *ec, "-keyout", "other.key", "-out", "other.pem", "-days", "2",
            "-subj", "/CN=another CA")
        self.ca = os.path.join(d, "ca.pem")
        self.other_ca = os.path.join(d, "other.pem")
        return d

    def _write_config(self):
        import pwd
        rq = pwd.getpwnam("rabbitmq")
        for sub in ("mnesia", "log"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        defs = {
            "users": [{"name": u, "password_hash": _hash(p),
                       "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ""}
                      for (u, p) in self.users.values()]
            + [{"name": "ward-admin", "password_hash": _hash(self.users["a"][1]),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": "administrator"}],
            "vhosts": [{"name": "/"}],
            # Each host reads only its own queue; it declares (configures)
            # ward.* so that a message to a host that never connected waits.
            "permissions": [{"user": u, "vhost": "/", "configure": r"^ward\..*$",
                             "write": r"^amq\.default$", "read": rf"^ward\.{h}$"}
                            for h, (u, _) in self.users.items()]
            + [{"user": "ward-admin", "vhost": "/", "configure": ".*", "write": ".*",
                "read": ".*"}],
        }
        with open(os.path.join(self.dir, "defs.json"), "w") as f:
            json.dump(defs, f)
        tls = self._make_certs()
        with open(os.path.join(self.dir, "rabbitmq.conf"), "w") as f:
            f.write(f"listeners.ssl.1 = 127.0.0.1:{self.tls_port}\n"
                    f"ssl_options.cacertfile = {tls}/ca.pem\n"
                    f"ssl_options.certfile = {tls}/server.pem\n"
                    f"ssl_options.keyfile = {tls}/server.key\n"
                    "ssl_options.verify = verify_none\n"
                    "ssl_options.fail_if_no_peer_cert = false\n")
            f.write(f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
                    f"definitions.import_backend = local_filesystem\n"
                    f"definitions.local.path = {self.dir}/defs.json\n"
                    "loopback_users = none\n"
                    "log.console = false\n"
                    "log.file.level = warning\n")
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as f:
            f.write("[].\n")
        for root, dirs, files in os.walk(self.dir):
            for n in dirs + files:
                os.chown(os.path.join(root, n), rq.pw_uid, rq.pw_gid)
        os.chown(self.dir, rq.pw_uid, rq.pw_gid)

    def _env(self):
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/var/lib/rabbitmq",  # its Erlang cookie
            "LANG": "C.UTF-8",
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist),
            "RABBITMQ_MNESIA_BASE": os.path.join(self.dir, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(self.dir, "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(self.dir, "enabled_plugins"),
            "RABBITMQ_FEATURE_FLAGS_FILE": os.path.join(self.dir, "feature_flags"),
            "RABBITMQ_CONFIG_FILE": os.path.join(self.dir, "rabbitmq"),
            "RABBITMQ_PID_FILE": os.path.join(self.dir, "rabbit.pid"),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }
        return env

    def start(self, timeout=90):
        if not os.access(SERVER, os.X_OK):
            pytest.skip("rabbitmq-server is not installed (scripts/deps.sh installs it)")
        if self.env is None:
            self._write_config()
            self.env = self._env()
        drop = ["setpriv", "--reuid=rabbitmq", "--regid=rabbitmq", "--init-groups"]
        if self.epmd is None or self.epmd.poll() is not None:
            # epmd in the foreground, ours: the node finds it on its port
            # and starts none of its own (which would outlive the session).
            self.epmd = subprocess.Popen(drop + ["epmd", "-port", str(self.epmd_port),
                                                 "-address", "127.0.0.1"],
                                         env=self.env, cwd=self.dir,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         start_new_session=True)
        # Not a child of the test session: the node starts helpers of its
        # own when it likes (and is started again by a test), and the leak
        # check after every test counts new descendants.  setsid -f
        # detaches it in a session of its own, whose leader's pid (the
        # shell that execs the server) is written first: the node is
        # stopped by that process group.
        pidfile = os.path.join(self.dir, "node.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        out = os.path.join(self.dir, "server.out")
        script = (f"echo $$ > {pidfile}; exec {' '.join(drop)} {SERVER} "
                  f">>{out} 2>&1 </dev/null")
        subprocess.run(["setsid", "-f", "sh", "-c", script], env=self.env, cwd=self.dir,
                       check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self.pid = wait_for(lambda: _read_pid(pidfile), timeout=30)
        self._sid = self.pid
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.pid:
            if exited(self.pid):
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                # Listening; the definitions (users) are loaded before the
                # listener opens.
                return
            except OSError:
                time.sleep(0.2)
        out = self.server_output()
        self.stop()
        pytest.skip(f"rabbitmq-server did not start here: {out[-1500:]}")

    def server_output(self):
        try:
            with open(os.path.join(self.dir, "server.out"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def kill(self):
        """SIGKILL the node and everything in its session (not epmd)."""
        if not self.pid:
            return
        for p in _session_members(self):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: exited(self.pid) and not _session_members(self), timeout=30)
        self.pid = None

    def stop(self):
        if self.pid:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            wait_for(lambda: exited(self.pid), timeout=30)
            self.kill()

    def close(self):
        self.stop()
        if self.epmd is not None:
            self.epmd.kill()
            self.epmd.wait(timeout=30)
            self.epmd = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def purge(self, host):
        """Empty host's queue (what earlier tests' hosts left in it)."""
        subprocess.run(["setpriv", "--reuid=rabbitmq", "--regid=rabbitmq", "--init-groups",
                        CTL, "-q", "purge_queue", f"ward.{host}"],
                       env=self.env, capture_output=True, text=True, timeout=120)

    def queue_depth(self, host):
        r = subprocess.run(["setpriv", "--reuid=rabbitmq", "--regid=rabbitmq", "--init-groups",
                            CTL, "-q", "list_queues", "name", "messages"],
                           env=self.env, capture_output=True, text=True, timeout=120)
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) == 2 and f[0] == f"ward.{host}":
                return int(f[1])
        return 0


def _read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _session_members(rmq):
    """Live processes of the node's session (it runs in a session of its own)."""
    out = []
    if not rmq._sid:
        return out
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            fields = st[st.rfind(")") + 2:].split()
            if int(fields[3]) == rmq._sid and fields[0] != "Z":
                out.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return out


@pytest.fixture(scope="session")
def rabbitmq():
    r = RabbitMQ()
    try:
        r.start()
        yield r
    finally:
        r.close()


class Host(Broker):
    """A broker that stands in for a host: its own directory and key."""

    def __init__(self, name, rmq, keydir):
        d = os.path.realpath(tempfile.mkdtemp(prefix=f"wmq-{name}-", dir="/var/tmp"))
        os.chmod(d, 0o755)
        super().__init__(d)
        self.name = name
        self.rmq = rmq
        self.key = os.path.join(keydir, f"host-{name}")
        self.peers = {}
        self.allow = {}
        self.extra = []
        self.tls_ca = None  # amqps with this CA instead of amqp

    def options(self):
        o = ["--host", self.name, "--host-key", self.key + ".key"]
        if self.tls_ca:
            o += ["--amqp", self.rmq.tls_url(self.name), "--amqp-cacert", self.tls_ca]
        else:
            o += ["--amqp", self.rmq.url(self.name)]
        for p, pub in self.peers.items():
            o += ["--peer", f"{p}={pub}"]
        for p, pats in self.allow.items():
            o += ["--peer-allow", f"{p}={','.join(pats)}"]
        return o + self.extra

    def start(self, *extra):
        return super().start(*self.options(), *extra)

    def ps(self):
        return self.ward("ps").stdout

    def link_up(self, timeout=60):
        return wait_for(lambda: "link up" in self.ps(), timeout=timeout, step=0.3)

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def make_keys(ward_env, keydir, *names):
    from conftest import run_ward
    for n in names:
        r = run_ward("key", "generate", "--out", os.path.join(keydir, f"host-{n}"),
                     "--no-password", env=ward_env)
        assert r.returncode == 0, r


@pytest.fixture
def hosts(rabbitmq):
    """Hosts a and b, each listing the other; start them with .start()."""
    keydir = os.path.realpath(tempfile.mkdtemp(prefix="wmq-keys-", dir="/var/tmp"))
    made = []

    def make(*names):
        make_keys(os.environ, keydir, *names)
        out = {}
        for n in names:
            h = Host(n, rabbitmq, keydir)
            made.append(h)
            out[n] = h
        for n, h in out.items():
            for m in names:
                if m != n:
                    h.peers[m] = os.path.join(keydir, f"host-{m}.pub")
        return out

    try:
        yield make
    finally:
        for h in made:
            h.close()
        shutil.rmtree(keydir, ignore_errors=True)


__all__ = ["rabbitmq", "hosts", "Host", "RabbitMQ", "exited", "wait_for"]
