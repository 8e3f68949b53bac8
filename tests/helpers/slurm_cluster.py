"""A throw-away single-node SLURM on this machine, for tests (Debian's slurm-wlm 22.05 and munge).

munged, slurmctld and slurmd run in the foreground as children of the test, on 127.0.0.1 only, on
free ports, with their key, socket, state, spool and logs under one temporary folder; a system-wide
SLURM or munge, if any, is left alone. They are stopped by their own process ids. Clients reach the
cluster through ``cluster.env`` (``SLURM_CONF``). No accounting daemon: job records go to a jobcomp
text file, and job states come from squeue (completed jobs stay listed for ``MinJobAge`` seconds).

    with SlurmCluster(partitions=["cpu", "gpu"], gpus=1) as cluster:
        subprocess.run(["sbatch", "--wrap", "hostname"], env=cluster.env)

Run ``python -m tests.helpers.slurm_cluster`` (as root) to start one by hand; it prints the variables to set.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.helpers.system_packages import AptFailed, apt_install

#: Debian packages providing the daemons and the client commands
PACKAGES = ["slurmctld", "slurmd", "slurm-client", "munge"]
BINARIES = ["munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol", "scancel"]
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")


class SlurmUnavailable(RuntimeError):
    """SLURM cannot be installed or started here; the message says why."""


def missing_binaries():
    return [b for b in BINARIES if shutil.which(b) is None]


def install(timeout=900):
    """apt-get install the SLURM packages (root only). Their services are kept from starting on
    install (a temporary policy-rc.d where the system has none); the test starts its own daemons."""
    if os.geteuid() != 0:
        raise SlurmUnavailable("installing SLURM needs root")
    own_policy = not POLICY_RC_D.exists()
    if own_policy:
        POLICY_RC_D.write_text(
            "#!/bin/sh\n# written by tests/helpers/slurm_cluster.py during apt-get install\nexit 101\n"
        )
        POLICY_RC_D.chmod(0o755)
    try:
        apt_install(PACKAGES, timeout=timeout)
    except AptFailed as e:
        raise SlurmUnavailable(str(e)) from e
    finally:
        if own_policy:
            POLICY_RC_D.unlink(missing_ok=True)
    if missing_binaries():
        raise SlurmUnavailable(f"still missing after apt-get install: {missing_binaries()}")


def free_ports(n):
    """n distinct free TCP ports on localhost (held together while chosen)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def tail(path, n=40):
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError as e:
        return f"({path}: {e})"
    return "\n".join(lines[-n:])


class SlurmCluster:
    """One node (this machine, under its short host name) in every partition of `partitions`; the
    first is the default. The node advertises `gpus` GPUs (gres backed by /dev/null, so GPU requests
    can be scheduled on a machine without one) and at least `mem_mb` of memory
    (``SlurmdParameters=config_overrides``: slurmd does not drain a node that claims more than it
    has). CPUs and topology are the machine's own (``slurmd -C``)."""

    def __init__(self, partitions=("debug",), gpus=0, mem_mb=0, min_job_age=300, root=None):
        if os.geteuid() != 0:
            raise SlurmUnavailable("starting slurmd and munged needs root")
        if missing_binaries():
            raise SlurmUnavailable(f"SLURM is not installed (missing {', '.join(missing_binaries())})")
        self.partitions = list(partitions)
        self.gpus = int(gpus)
        self.mem_mb = int(mem_mb)
        self.min_job_age = int(min_job_age)
        self._own_root = root is None
        self.root = Path(root or tempfile.mkdtemp(prefix="emg-slurm-", dir="/tmp"))
        self.procs = {}  # name -> Popen
        self.node = socket.gethostname().split(".")[0]
        self.conf = self.root / "etc" / "slurm.conf"
        self.log = self.root / "log"
        self.jobcomp_file = self.log / "jobcomp.log"
        self.munge_socket = self.root / "munge-run" / "munge.socket"
        self.bin = self.root / "bin"
        self.env = dict(os.environ, SLURM_CONF=str(self.conf), PATH=f"{self.bin}{os.pathsep}{os.environ['PATH']}")
        for var in [v for v in self.env if v.startswith(("SLURM_", "SBATCH_", "SRUN_", "SQUEUE_"))]:
            if var != "SLURM_CONF":  # never inherit an outer job's or site's settings
                del self.env[var]

    # ---------------------------------------------------------------- setup
    def _munge(self):
        key_dir = self.root / "munge"  # key, seed, log: munge's only
        run_dir = self.munge_socket.parent  # socket: world-traversable, as munged requires
        self.root.chmod(0o755)  # munged runs as munge and must reach its folders
        key_dir.mkdir(mode=0o700)
        run_dir.mkdir(mode=0o755)
        for d in (key_dir, run_dir):
            shutil.chown(d, "munge", "munge")
        key = key_dir / "munge.key"
        res = subprocess.run(
            ["mungekey", "--create", "--keyfile", str(key)],
            user="munge",
            group="munge",
            capture_output=True,
            text=True,
            timeout=30,
        )
        if res.returncode != 0:
            raise SlurmUnavailable(f"mungekey failed: {res.stdout}{res.stderr}")
        self._spawn(
            "munged",
            [
                "munged",
                "--foreground",
                f"--socket={self.munge_socket}",
                f"--key-file={key}",
                f"--pid-file={run_dir / 'munged.pid'}",
                f"--log-file={key_dir / 'munged.log'}",
                f"--seed-file={key_dir / 'munged.seed'}",
            ],
            user="munge",
            group="munge",
        )
        self._wait(lambda: self.munge_socket.exists(), 30, "munged never created its socket")

    def _node_line(self):
        out = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, timeout=60).stdout
        first = next((line for line in out.splitlines() if line.startswith("NodeName=")), None)
        if first is None:
            raise SlurmUnavailable(f"`slurmd -C` printed no node line: {out!r}")
        fields = dict(f.split("=", 1) for f in first.split())
        fields["NodeName"] = self.node
        fields["RealMemory"] = str(max(int(fields.get("RealMemory", 1000)), self.mem_mb))
        line = " ".join(f"{k}={v}" for k, v in fields.items())
        line += " NodeAddr=127.0.0.1 NodeHostname=" + self.node
        if self.gpus:
            line += f" Gres=gpu:{self.gpus}"
        self.cpus = int(fields.get("CPUs", 1))
        return line + " State=UNKNOWN"

    def _write_conf(self):
        for d in ("etc", "state", "spool", "log"):
            (self.root / d).mkdir(exist_ok=True)
        r = self.root
        ctld_port, slurmd_port = free_ports(2)
        lines = [
            "ClusterName=emgtest",
            f"SlurmctldHost={self.node}(127.0.0.1)",
            f"SlurmctldPort={ctld_port}",
            f"SlurmdPort={slurmd_port}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            f"StateSaveLocation={r / 'state'}",
            f"SlurmdSpoolDir={r / 'spool'}",
            f"SlurmctldPidFile={r / 'slurmctld.pid'}",
            f"SlurmdPidFile={r / 'slurmd.pid'}",
            f"SlurmctldLogFile={self.log / 'slurmctld.log'}",
            f"SlurmdLogFile={self.log / 'slurmd.log'}",
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
            "MailProg=/bin/true",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "DefMemPerCPU=1000",
            "SchedulerType=sched/backfill",
            f"MinJobAge={self.min_job_age}",
            "ReturnToService=2",
            "MpiDefault=none",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/filetxt",
            f"JobCompLoc={self.jobcomp_file}",
            "SlurmdParameters=config_overrides",
            "GresTypes=gpu",
            self._node_line(),
        ]
        for i, name in enumerate(self.partitions):
            lines.append(
                f"PartitionName={name} Nodes={self.node} Default={'YES' if i == 0 else 'NO'} MaxTime=INFINITE State=UP"
            )
        self.conf.write_text("\n".join(lines) + "\n")
        gres = ["AutoDetect=off"]
        gres += [f"NodeName={self.node} Name=gpu File=/dev/null"] * self.gpus
        (self.conf.parent / "gres.conf").write_text("\n".join(gres) + "\n")

    def _srun_wrapper(self):
        """srun that finds this cluster: the jobstep plugin runs it inside a job with every SLURM_*
        variable but a few removed, SLURM_CONF included; a real cluster has /etc/slurm/slurm.conf."""
        self.bin.mkdir(exist_ok=True)
        wrapper = self.bin / "srun"
        wrapper.write_text(f'#!/bin/sh\nSLURM_CONF="{self.conf}" exec {shutil.which("srun")} "$@"\n')
        wrapper.chmod(0o755)

    def _spawn(self, name, cmd, **kw):
        out = open(self.log / f"{name}.out", "ab")
        with out:
            self.procs[name] = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                **kw,
            )

    def _wait(self, ready, timeout, what):
        deadline = time.monotonic() + timeout
        while not ready():
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise SlurmUnavailable(f"{name} exited with {p.returncode}; {what}\n{self.diagnostics()}")
            if time.monotonic() > deadline:
                raise SlurmUnavailable(f"{what} (after {timeout} s)\n{self.diagnostics()}")
            time.sleep(0.5)

    def node_state(self):
        res = subprocess.run(
            ["sinfo", "-h", "-N", "-n", self.node, "-o", "%T"], env=self.env, capture_output=True, text=True, timeout=30
        )
        return res.stdout.strip().splitlines()[0] if res.returncode == 0 and res.stdout.strip() else ""

    def start(self, timeout=120):
        try:
            self.log.mkdir(parents=True, exist_ok=True)
            self._munge()
            self._write_conf()
            self._srun_wrapper()
            self._spawn("slurmctld", ["slurmctld", "-D", "-f", str(self.conf)])
            self._wait(
                lambda: (
                    subprocess.run(
                        ["scontrol", "ping"], env=self.env, capture_output=True, text=True, timeout=30
                    ).stdout.count("UP")
                    > 0
                ),
                timeout,
                "slurmctld does not answer `scontrol ping`",
            )
            self._spawn("slurmd", ["slurmd", "-D", "-f", str(self.conf), "-N", self.node])
            self._wait(lambda: self.node_state().rstrip("*") == "idle", timeout, f"node {self.node} never became idle")
        except (OSError, LookupError, subprocess.SubprocessError) as e:
            self.stop()
            raise SlurmUnavailable(f"starting SLURM failed: {e!r}\n{self.diagnostics()}") from e
        except BaseException:
            self.stop()
            raise
        return self

    # ---------------------------------------------------------------- teardown
    def stop(self, timeout=30):
        """Cancel what is still queued, then stop slurmd, slurmctld and munged by their ids."""
        if self.procs.get("slurmctld") is not None and self.procs["slurmctld"].poll() is None:
            subprocess.run(
                ["scancel", "--full", f"--user={os.getuid()}"], env=self.env, capture_output=True, timeout=30
            )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.active_jobs():
                time.sleep(1)
        for name in ("slurmd", "slurmctld", "munged"):
            p = self.procs.get(name)
            if p is None:
                continue
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=timeout)
        for pid_file in (
            self.root / "slurmctld.pid",
            self.root / "slurmd.pid",
            self.munge_socket.parent / "munged.pid",
        ):
            pid_file.unlink(missing_ok=True)  # stale after a kill

    def cleanup(self):
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---------------------------------------------------------------- queries
    def squeue(self, fmt="%i|%T|%P|%j|%k", *extra):
        """Every job the controller still holds (completed ones for MinJobAge seconds), as rows."""
        res = subprocess.run(
            ["squeue", "-h", "--states=all", f"--format={fmt}", *extra],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return [line.split("|") for line in res.stdout.splitlines() if line.strip()]

    def show_job(self, jobid):
        """`scontrol show job` as {field: value} (held for MinJobAge seconds after the job ends)."""
        res = subprocess.run(
            ["scontrol", "show", "job", str(jobid)], env=self.env, capture_output=True, text=True, timeout=30
        )
        return dict(m.groups() for m in re.finditer(r"(\S+?)=(\S*)", res.stdout))

    def active_jobs(self):
        try:
            return [
                r
                for r in self.squeue("%i|%T")
                if r[1] in ("PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED")
            ]
        except (subprocess.SubprocessError, OSError):
            return []

    def jobcomp(self):
        """Finished jobs from the jobcomp file: {job id: {field: value}}."""
        records = {}
        if self.jobcomp_file.exists():
            for line in self.jobcomp_file.read_text().splitlines():
                rec = dict(m.groups() for m in re.finditer(r"(\w+)=(\S*)", line))
                if "JobId" in rec:
                    records[rec["JobId"]] = rec
        return records

    def submitted_ids(self):
        """Job ids the controller accepted through sbatch (its log)."""
        text = (self.log / "slurmctld.log").read_text(errors="replace") if (self.log / "slurmctld.log").exists() else ""
        return re.findall(r"_slurm_rpc_submit_batch_job: JobId=(\d+)", text)

    def diagnostics(self, n=40):
        parts = []
        if self.procs.get("slurmctld") is not None and self.procs["slurmctld"].poll() is None:
            for cmd in (["sinfo", "-N", "-l"], ["scontrol", "show", "node"]):
                try:
                    res = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=30)
                    parts.append(f"--- {' '.join(cmd)}\n{res.stdout}{res.stderr}")
                except (subprocess.SubprocessError, OSError) as e:
                    parts.append(f"--- {' '.join(cmd)}: {e!r}")
        parts.append("--- daemons: " + ", ".join(f"{k} pid {p.pid} exit {p.poll()}" for k, p in self.procs.items()))
        for name in ("slurmctld.log", "slurmd.log", "slurmctld.out", "slurmd.out", "munged.out"):
            parts.append(f"--- {self.log / name} (last {n} lines)\n{tail(self.log / name, n)}")
        parts.append(f"--- {self.root / 'munge' / 'munged.log'}\n{tail(self.root / 'munge' / 'munged.log', 10)}")
        return "\n".join(parts)


if __name__ == "__main__":
    cluster = SlurmCluster(partitions=["cpu", "gpu"], gpus=1, mem_mb=64000)
    with cluster:
        print(f"export SLURM_CONF={cluster.conf} PATH={cluster.bin}:$PATH   # Ctrl-C stops the cluster", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    cluster.cleanup()
